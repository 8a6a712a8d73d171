"""Runs a character call inside a voice worker (`manage.py voice_worker`).

Why the voice worker and not a child process of Daphne like the practice partner: the character
needs STT and TTS (Daphne never runs them, issue 12), the worker already holds those engines,
counts its sessions against `max_sessions` and announces itself for /api/health, and more
workers on other machines scale calls the way they scale voice conversations.

The request (calls/dispatch.py) names the room, the conversation the call's transcript goes to,
and a guest session that seats the character in the room's second seat. The worker confirms it
took the request on the request's claim key (the API waits on it), joins the room through the
real signaling endpoint and stays until the person hangs up, the room closes, nobody comes
within JOIN_TIMEOUT_S, or the call reaches CHARACTER_CALL_MAX_S. Then it frees everything:
the room (closed), the guest session, the user's one-call slot.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from chat.voice.worker import engines, voice_for

from . import dispatch
from .face import FaceDriver

logger = logging.getLogger(__name__)

JOIN_TIMEOUT_S = 120.0  # the person never opened the call page: leave


async def run_character_call(worker: Any, redis: Any, request: dict[str, Any]) -> None:
    from chat.voice.session import VoiceSession

    from . import services
    from .peer import CharacterPeer

    await dispatch.confirm_claim(redis, request, worker.worker_id)
    session = peer = None
    try:
        call = await database_sync_to_async(services.call_context)(request=request)
        voice = voice_for(call.language, call.voice_id) or voice_for("en", call.voice_id)
        if voice is None:
            logger.error("character call %s: no voice is configured", request["session"])
            return
        holder: dict[str, CharacterPeer] = {}

        async def send(event: dict[str, Any]) -> None:
            if "peer" in holder:
                await holder["peer"].session_event(event)

        session = VoiceSession(
            user=call.user, conversation_id=call.conversation_id, language=voice.language, voice=voice,
            send=send, speed=call.speed, **engines(voice),
        )
        worker.live[request["session"]] = session
        face = FaceDriver(session.playout)
        base = request["base_url"].rstrip("/")
        ws_base = "wss" + base[len("https"):] if base.startswith("https") else "ws" + base[len("http"):]
        load_asset = None
        if call.vrm_avatar_id is not None:
            avatar_id = call.vrm_avatar_id

            async def load_asset() -> bytes:
                return await database_sync_to_async(services.vrm_bytes)(avatar_id=avatar_id)

        peer = CharacterPeer(
            session=session, face=face, avatar=call.avatar, load_asset=load_asset,
            ws_url=f"{ws_base}/ws/rooms/{call.room_code}/", origin=base,
            headers=[("Cookie", f"{settings.SESSION_COOKIE_NAME}={request['guest_session']}")],
        )
        holder["peer"] = peer
        watch = asyncio.ensure_future(_leave_if_nobody_comes(peer))
        try:
            await peer.run(duration=float(request.get("max_s") or settings.CHARACTER_CALL_MAX_S))
        finally:
            watch.cancel()
        logger.info("character call %s ended: %s", request["session"], peer.outcome)
    finally:
        worker.live.pop(request["session"], None)
        if session is not None:
            with contextlib.suppress(Exception):
                await session.close()
        await database_sync_to_async(services.end_call)(request=request)


async def _leave_if_nobody_comes(peer: Any) -> None:
    await asyncio.sleep(JOIN_TIMEOUT_S)
    if peer.stats.calls == 0:
        peer.stop("nobody_came")
