"""The live worker: finds running sessions, leases each in Redis, runs one LiveRunner per lease.

Scale by starting more workers anywhere that reaches PostgreSQL and Redis: a session runs in exactly
one worker at a time (the lease), and moves to another if its worker dies.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable

import redis.asyncio as aioredis
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import close_old_connections

from avatarforge.errors import AppError

from .intake.base import Intake
from .leases import Leases
from .models import LiveSession, Platform, SessionStatus
from .responder import Responder
from .runner import CLIP_TTL_S, LiveRunner

log = logging.getLogger(__name__)

POLL_S = 2.0
RENEW_S = 5.0
HEARTBEAT_TTL_S = 20  # /api/health counts workers whose heartbeat key is alive (live.health)


def heartbeat_key(owner: str) -> str:
    return f"live:worker:{owner}"


class LiveWorker:
    def __init__(self, *, responder_for: Callable[[LiveSession], Responder],
                 intake_for: Callable[[LiveSession], Intake | None], redis_url: str | None = None) -> None:
        self.redis = aioredis.Redis.from_url(redis_url or settings.REDIS_URL)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.leases = Leases(self.redis, self.owner)
        self.responder_for = responder_for
        self.intake_for = intake_for
        self.runners: dict[str, tuple[LiveRunner, asyncio.Task]] = {}
        self.stopping = asyncio.Event()

    async def store_clip(self, key: str, wav: bytes) -> None:
        await self.redis.set(key, wav, ex=CLIP_TTL_S)

    @database_sync_to_async
    def _running(self) -> list[LiveSession]:
        close_old_connections()
        return list(LiveSession.objects.filter(status=SessionStatus.RUNNING).select_related("character", "owner"))

    async def run(self) -> None:
        renew = asyncio.create_task(self._renew_loop())
        try:
            while not self.stopping.is_set():
                await self.tick()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), POLL_S)
        finally:
            renew.cancel()
            for session_id in list(self.runners):
                await self._drop(session_id)
            with contextlib.suppress(Exception):
                await self.redis.delete(heartbeat_key(self.owner))
            await self.redis.aclose()

    async def tick(self) -> None:
        running = {str(s.pk): s for s in await self._running()}
        for session_id in list(self.runners):
            runner, task = self.runners[session_id]
            if session_id not in running or task.done():
                await self._drop(session_id)
        for session_id, session in running.items():
            if session_id in self.runners or not await self.leases.take(session_id):
                continue
            try:
                # Synchronous: reads (and may refresh) the streamer's tokens in the database.
                intake = await database_sync_to_async(self.intake_for)(session) if session.platform != Platform.TEST else None
            except AppError as exc:  # not linked, tokens revoked: the session cannot run
                await database_sync_to_async(LiveSession.objects.filter(pk=session_id).update)(
                    status=SessionStatus.FAILED, status_detail=f"{exc.code}: {exc.message}"[:300])
                await self.leases.release(session_id)
                continue
            runner = LiveRunner(session, intake=intake, responder=self.responder_for(session), store_clip=self.store_clip)
            self.runners[session_id] = (runner, asyncio.create_task(runner.run()))
            await database_sync_to_async(LiveSession.objects.filter(pk=session_id).update)(status_detail=f"held by {self.owner}")
            log.info("live session %s picked up by %s", session_id, self.owner)

    async def _heartbeat(self) -> None:
        await self.redis.set(heartbeat_key(self.owner), len(self.runners), ex=HEARTBEAT_TTL_S)

    async def _renew_loop(self) -> None:
        while True:
            with contextlib.suppress(Exception):  # Redis blips must not stop lease renewals
                await self._heartbeat()
            await asyncio.sleep(RENEW_S)
            for session_id in list(self.runners):
                if not await self.leases.renew(session_id):
                    log.warning("lost the lease of live session %s", session_id)
                    await self._drop(session_id, release=False)

    async def _drop(self, session_id: str, release: bool = True) -> None:
        runner, task = self.runners.pop(session_id)
        runner.stop()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, 10)
        if release:
            await self.leases.release(session_id)
