"""`/ws/voice/<conversation id>/`: signaling for a voice conversation (and the PCM fallback).

Auth and ownership in connect. The socket asks for a voice worker (chat/voice/dispatch.py) and
relays between the browser and that worker's channel: offer/candidate up, answer and events
down; with `?transport=pcm`, 20 ms binary PCM frames both ways. It never touches audio itself
beyond checking frame sizes and rates. Protocol: docs/voice-protocol.md.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from django.utils.translation import gettext as _

from avatarforge.consumers import CLOSE_NOT_FOUND, AppJsonConsumer
from avatarforge.errors import AppError

from ..selectors import get_conversation
from . import dispatch

LANGUAGES = ("en", "ko", "ja")
TRANSPORTS = ("webrtc", "pcm")
MAX_PCM_FRAMES_PER_S = 60  # 50 is real time; a little slack for jitter
MAX_JSON_PER_10S = 200  # signaling and events (ICE candidates come in bursts)
CLOSE_NO_WORKER = 4503


class VoiceConsumer(AppJsonConsumer):
    max_frame_chars = 64 * 1024  # an SDP offer is a few KB

    async def on_connect(self) -> None:
        self.worker_channel: str | None = None
        self.request_body: str | None = None
        self.redis = None
        self._pcm_window: list[float] = []
        self._json_window: list[float] = []
        conversation_id = str(self.scope["url_route"]["kwargs"]["conversation_id"])
        try:
            conversation = await database_sync_to_async(get_conversation)(user=self.scope["user"], conversation_id=conversation_id)
        except AppError as exc:
            await self.send_app_error(exc)
            await self.close(code=CLOSE_NOT_FOUND)
            return
        query = dict(pair.split("=", 1) for pair in self.scope.get("query_string", b"").decode().split("&") if "=" in pair)
        language, transport = query.get("language", "en"), query.get("transport", "webrtc")
        if language not in LANGUAGES or transport not in TRANSPORTS:
            await self.send_error("invalid", _("Unknown language or transport."), {"language": list(LANGUAGES), "transport": list(TRANSPORTS)})
            await self.close(code=4400)
            return
        self.transport = transport
        self.redis = dispatch.client()
        self.request_body = dispatch.request_body(
            session_id=uuid.uuid4().hex, user_id=self.scope["user"].pk, conversation_id=str(conversation.pk),
            reply_channel=self.channel_name, language=language, transport=transport,
        )
        await dispatch.submit(self.redis, self.request_body)
        self.claim_timer = asyncio.ensure_future(self._claim_timeout())

    async def _claim_timeout(self) -> None:
        await asyncio.sleep(dispatch.CLAIM_TIMEOUT)
        if self.worker_channel is None and await dispatch.withdraw(self.redis, self.request_body):
            self.request_body = None
            await self.send_error("no_voice_worker", _("No voice worker is free right now. Try again in a moment, or type."))
            await self.close(code=CLOSE_NO_WORKER)

    async def disconnect(self, code: int) -> None:
        timer = getattr(self, "claim_timer", None)
        if timer is not None:
            timer.cancel()
        if getattr(self, "worker_channel", None):
            with contextlib.suppress(Exception):
                await self.channel_layer.send(self.worker_channel, {"type": "voice.end"})
        elif getattr(self, "request_body", None) and self.redis is not None:
            with contextlib.suppress(Exception):
                await dispatch.withdraw(self.redis, self.request_body)
        if getattr(self, "redis", None) is not None:
            await self.redis.aclose()

    def _over(self, window: list[float], limit: int, seconds: float) -> bool:
        now = time.monotonic()
        window[:] = [t for t in window if now - t < seconds]
        window.append(now)
        return len(window) > limit

    # --- from the browser --------------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if bytes_data is None:
            await super().receive(text_data=text_data, **kwargs)
            return
        if self.transport != "pcm":
            await self.send_error("unsupported_frame", _("Binary frames are for the PCM transport only."))
            return
        if len(bytes_data) != dispatch.PCM_FRAME_BYTES:
            await self.send_error("invalid_frame", _("PCM frames are 20 ms of 16 kHz mono 16-bit audio (640 bytes)."),
                                  {"bytes": len(bytes_data)})
            return
        if self._over(self._pcm_window, MAX_PCM_FRAMES_PER_S, 1.0) or self.worker_channel is None:
            return  # faster than real time, or before a worker joined: dropped, like a lost packet
        with contextlib.suppress(ChannelFull):  # a worker that falls behind loses frames, like UDP would
            await self.channel_layer.send(self.worker_channel, {"type": "voice.pcm", "pcm": bytes_data})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if self._over(self._json_window, MAX_JSON_PER_10S, 10.0):
            await self.send_error("rate_limited", _("Too many messages."))
            return
        kind = content.get("type") if isinstance(content, dict) else None
        if kind not in ("offer", "candidate", "barge_in", "end"):
            await self.send_error("invalid", _("Unknown message type."), {"type": ["invalid"]})
            return
        if self.worker_channel is None:
            await self.send_error("not_ready", _("Wait for the `ready` message."))
            return
        if kind == "offer":
            if not isinstance(content.get("sdp"), str) or self.transport != "webrtc":
                await self.send_error("invalid", _("An offer needs an SDP string (WebRTC transport)."), {"sdp": ["invalid"]})
                return
            await self.channel_layer.send(self.worker_channel, {"type": "voice.offer", "sdp": content["sdp"]})
        elif kind == "candidate":
            candidate = content.get("candidate")
            if candidate is not None and not isinstance(candidate, dict):
                await self.send_error("invalid", _("A candidate is an object or null."), {"candidate": ["invalid"]})
                return
            await self.channel_layer.send(self.worker_channel, {"type": "voice.candidate", "candidate": candidate})
        elif kind == "barge_in":
            await self.channel_layer.send(self.worker_channel, {"type": "voice.barge_in"})
        else:
            await self.close()

    # --- from the worker ---------------------------------------------------------------------
    async def voice_claimed(self, message: dict[str, Any]) -> None:
        self.worker_channel = message["worker_channel"]
        self.request_body = None

    async def voice_to_client(self, message: dict[str, Any]) -> None:
        payload = message["payload"]
        if payload.get("type") == "session":
            payload = {**payload, "type": "ready"}
        await self.send_json(payload)

    async def voice_pcm_out(self, message: dict[str, Any]) -> None:
        await self.send(bytes_data=message["pcm"])

    async def voice_ended(self, message: dict[str, Any]) -> None:
        self.worker_channel = None
        await self.send_json({"type": "ended"})
        await self.close()
