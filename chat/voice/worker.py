"""The voice worker: takes session requests from Redis and runs each session's pipeline.

One asyncio process holds several sessions (`max_sessions`); run more workers, on other hosts
too, to scale: they share REQUESTS (chat/voice/dispatch.py). Per session the worker opens its
own channel-layer channel, tells the socket about it (`voice.claimed`) and from then on the
socket relays the browser's signaling (or PCM frames) there. Daphne never runs STT/TTS.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.module_loading import import_string

from inference.speech import config as speech_config
from inference.speech.audio import pcm16_to_float

from . import dispatch
from .playout import FRAME_SAMPLES, RATE
from .session import VoiceSession

logger = logging.getLogger(__name__)

PCM_FRAME_BYTES = dispatch.PCM_FRAME_BYTES


def engines(voice) -> dict[str, Any]:
    """The speech engines and turn taking of a VoiceSession for `voice`, from settings (voice
    conversations and character calls alike)."""
    return {
        "stt": speech_config.stt_engine(), "tts": speech_config.tts_engine(voice.engine),
        "turn_detector": speech_config.turn_detector(), "partial_every_ms": settings.SPEECH_PARTIAL_TRANSCRIPT_MS,
    }


def voice_for(language: str, voice_id: str = ""):
    """The character's own voice (`voice_id`) when it speaks `language`, else the first voice of
    that language (the same rule as live mode's chat responder)."""
    catalogue = speech_config.voices()
    for voice in catalogue:
        if voice_id and voice.id == voice_id and voice.language == language:
            return voice
    for voice in catalogue:
        if voice.language == language:
            return voice
    return None


# A handler for another kind of request (dispatch.register_request_kind): it runs the whole
# session; the worker frees the request afterwards.
RequestHandler = Callable[["VoiceWorker", Any, dict[str, Any]], Awaitable[None]]


def _character_voice(conversation_id: str) -> tuple[str, float]:
    from ..models import Conversation

    row = Conversation.objects.filter(pk=conversation_id).values_list("character__voice_id", "character__voice_speed").first()
    return (row[0] or "", float(row[1] or 1.0)) if row else ("", 1.0)


class VoiceWorker:
    def __init__(self, *, max_sessions: int = 4, worker_id: str | None = None) -> None:
        self.max_sessions = max_sessions
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.sessions: dict[str, asyncio.Task] = {}
        self.live: dict[str, VoiceSession] = {}
        self.stopping = asyncio.Event()
        self.layer = get_channel_layer()
        self.pcm_frames_in = 0  # PCM-socket frames received (tests and diagnostics)

    async def run(self) -> None:
        redis = dispatch.client()
        beat = asyncio.ensure_future(self._heartbeat(redis))
        try:
            while not self.stopping.is_set():
                if len(self.sessions) >= self.max_sessions:
                    await asyncio.sleep(0.05)
                    continue
                request = await dispatch.take(redis, self.worker_id, 1.0)
                if request is None:
                    continue
                logger.info("voice worker %s took request %s (%s)", self.worker_id, request.get("session"),
                            request.get("kind") or "voice")
                task = asyncio.ensure_future(self._dispatch(redis, request))
                self.sessions[request["session"]] = task
                task.add_done_callback(lambda _t, key=request["session"]: self.sessions.pop(key, None))
        finally:
            beat.cancel()
            for task in list(self.sessions.values()):
                task.cancel()
            await asyncio.gather(*self.sessions.values(), return_exceptions=True)
            with contextlib.suppress(Exception):
                await dispatch.leave(redis, self.worker_id)
            await redis.aclose()

    def stop(self) -> None:
        self.stopping.set()

    async def _heartbeat(self, redis: Any) -> None:
        while True:
            with contextlib.suppress(Exception):
                await dispatch.heartbeat(redis, self.worker_id, len(self.sessions))
            slept = time.monotonic()
            await asyncio.sleep(dispatch.HEARTBEAT)
            late = time.monotonic() - slept - dispatch.HEARTBEAT
            if late > dispatch.HEARTBEAT:
                # Something held the event loop: past WORKER_STALE /api/health and the APIs count
                # this worker as gone and refuse with no_voice_worker.
                logger.warning("voice worker %s: event loop stalled %.1f s between heartbeats", self.worker_id, late)

    async def _dispatch(self, redis: Any, request: dict[str, Any]) -> None:
        path = dispatch.REQUEST_HANDLERS.get(request.get("kind") or "")
        if path is None:
            await self._session(redis, request)
            return
        try:
            handler: RequestHandler = import_string(path)
            await handler(self, redis, request)
        except Exception:
            logger.exception("voice request %s (%s) failed", request.get("session"), request.get("kind"))
        finally:
            with contextlib.suppress(Exception):
                await dispatch.finish(redis, self.worker_id, request)

    async def _session(self, redis: Any, request: dict[str, Any]) -> None:
        reply_channel = request["reply_channel"]
        # The default prefix, never our own: channels-redis reads every process-local channel of
        # a process through ONE Redis list (`specific.<process>!`) under one receive lock, and a
        # channel named `voice.<process>!...` lives on another list. A receiver holding the lock
        # (any socket's consumer in the same process, waiting on its BZPOPMIN) then never reads
        # this session's messages: the session got its first relayed PCM frame and no more.
        channel = await self.layer.new_channel()

        async def to_client(payload: dict[str, Any]) -> None:
            await self.layer.send(reply_channel, {"type": "voice.to_client", "payload": payload})

        try:
            # Claim first: the socket gives up on an unclaimed request after a few seconds.
            await self.layer.send(reply_channel, {"type": "voice.claimed", "worker_channel": channel, "worker": self.worker_id})
            user = await database_sync_to_async(get_user_model().objects.get)(pk=request["user"])
            language = request.get("language") or "en"
            voice_id, speed = await database_sync_to_async(_character_voice)(request["conversation"])
            voice = voice_for(language, voice_id)
            if voice is None:
                await to_client({"type": "error", "code": "language_unsupported", "message": f"No voice speaks {language}.", "details": None})
                return
            await self._run_session(channel, request, user, voice, to_client, speed=speed)
        except Exception:
            logger.exception("voice session %s failed", request.get("session"))
            with contextlib.suppress(Exception):
                await to_client({"type": "error", "code": "server_error", "message": "The voice session failed.", "details": None})
        finally:
            with contextlib.suppress(Exception):
                await dispatch.finish(redis, self.worker_id, request)
            with contextlib.suppress(Exception):
                await self.layer.send(reply_channel, {"type": "voice.ended"})

    async def _run_session(self, channel: str, request: dict[str, Any], user: Any, voice: Any, to_client, *, speed: float = 1.0) -> None:
        from .rtc import RtcLink

        transport = request.get("transport") or "webrtc"
        link: RtcLink | None = None

        async def send_event(event: dict[str, Any]) -> None:
            if link is not None:
                link.send_event(event)
            else:
                await to_client(event)

        session = VoiceSession(
            user=user, conversation_id=request["conversation"], language=request.get("language") or "en", voice=voice,
            send=send_event, speed=speed, **engines(voice),
        )
        self.live[request["session"]] = session
        pacer = None
        if transport == "webrtc":
            link = RtcLink(session, to_client)
        else:
            pacer = asyncio.ensure_future(self._pcm_out(session, to_client, request["reply_channel"]))
        await to_client({"type": "session", "transport": transport, "language": session.language, "voice": voice.as_dict()})
        try:
            while True:
                message = await self.layer.receive(channel)
                kind = message.get("type")
                if kind == "voice.end":
                    return
                if kind == "voice.offer" and link is not None:
                    await link.answer(message["sdp"])
                elif kind == "voice.candidate" and link is not None:
                    await link.add_candidate(message.get("candidate"))
                elif kind == "voice.pcm" and link is None:
                    pcm = message.get("pcm") or b""
                    self.pcm_frames_in += 1
                    if len(pcm) == PCM_FRAME_BYTES:
                        await session.feed(pcm16_to_float(pcm))
                elif kind == "voice.barge_in":
                    await session.barge_in(reason="browser_vad")
        finally:
            self.live.pop(request["session"], None)
            if pacer is not None:
                pacer.cancel()
            await session.close()
            if link is not None:
                await link.close()

    async def _pcm_out(self, session: VoiceSession, to_client, reply_channel: str) -> None:
        """The socket fallback's clock: 20 ms frames at real time, 16 kHz, only while speaking."""
        started, sent = time.monotonic(), 0
        while True:
            sent += 1
            wait = started + sent * FRAME_SAMPLES / RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not session.playout.playing:
                continue
            pcm, events = session.playout.read()
            for event in events:
                await to_client(event)
            samples = np.frombuffer(pcm, dtype="<i2")[::3]  # 48 kHz -> 16 kHz (speech band, no aliasing worth filtering)
            with contextlib.suppress(ChannelFull):  # a socket that falls behind loses frames, like UDP would
                await self.layer.send(reply_channel, {"type": "voice.pcm_out", "pcm": samples.astype("<i2").tobytes()})
