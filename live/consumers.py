"""Live-mode sockets.

`/ws/live/overlay/<key>/` — the OBS overlay and avatar source. No login (OBS has none): the
unguessable, revocable overlay key is the credential. It receives chat, replies, speech clips with
visemes and emotion, and overlay commands; it may report its VTube Studio bridge's status, which
is relayed to the dashboard.
`/ws/live/sessions/<id>/` — the streamer's dashboard: status, the live log, per-stage latency.
"""
from __future__ import annotations

import time
from collections import deque
from typing import Any

from channels.db import database_sync_to_async

from avatarforge.consumers import CLOSE_NOT_FOUND, AppJsonConsumer
from avatarforge.errors import AppError

from . import events, selectors
from .settings_schema import effective_settings

MAX_MESSAGE_BYTES = 2048
MESSAGES_PER_WINDOW = 30
RATE_WINDOW_S = 10.0
VTS_STATES = {"off", "connecting", "authorizing", "connected", "error"}


class _Throttled(AppJsonConsumer):
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None or len(text_data) > MAX_MESSAGE_BYTES:
            await self.send_error("invalid_message", "Send a small JSON object.")
            return
        recent: deque[float] = self.__dict__.setdefault("_recent", deque())
        now = time.monotonic()
        while recent and recent[0] <= now - RATE_WINDOW_S:
            recent.popleft()
        if len(recent) >= MESSAGES_PER_WINDOW:
            await self.send_error("rate_limited", "Too many messages. Slow down.", {"retry_after": int(RATE_WINDOW_S)})
            return
        recent.append(now)
        await super().receive(text_data=text_data)


class OverlayConsumer(_Throttled):
    require_auth = False
    session_id: str | None = None

    async def on_connect(self) -> None:
        key = self.scope["url_route"]["kwargs"]["key"]
        try:
            state = await self._state(key)
        except AppError as exc:
            await self.send_app_error(exc)
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.session_id = state["session"]
        await self.channel_layer.group_add(events.overlay_group(self.session_id), self.channel_name)
        await self.send_json({"type": "state", **state})

    @database_sync_to_async
    def _state(self, key: str) -> dict[str, Any]:
        session = selectors.session_by_overlay_key(key=key)
        settings = effective_settings(session.settings)
        return {
            "session": str(session.pk),
            "status": session.status,
            "hide_streamer_chat": session.hide_streamer_chat,
            "character": {"id": str(session.character_id), "name": session.character.name},
            "emotion_map": settings["emotion_map"],
            "lerp_s": settings["lerp_s"],
        }

    async def disconnect(self, code: int) -> None:
        if self.session_id:
            await self.channel_layer.group_discard(events.overlay_group(self.session_id), self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if self.session_id is None:
            return
        if not isinstance(content, dict) or content.get("action") != "vts_status":
            await self.send_error("unknown_action", "Unknown action.", {"actions": ["vts_status"]})
            return
        state = content.get("state")
        lost = content.get("lost_parameters", [])
        if state not in VTS_STATES or not isinstance(lost, list):
            await self.send_error("invalid_vts_status", "state must be one of the VTS states.", {"state": sorted(VTS_STATES)})
            return
        await events.apublish(events.dashboard_group(self.session_id), {
            "type": "vts_status", "state": state,
            "lost_parameters": [str(p)[:32] for p in lost[:32]],
            "detail": str(content.get("detail", ""))[:200],
        })

    async def live_event(self, event: dict[str, Any]) -> None:
        payload = event["payload"]
        await self.send_json(payload)
        if payload.get("type") == "revoked":
            await self.close(code=CLOSE_NOT_FOUND)


class DashboardConsumer(_Throttled):
    session_id: str | None = None

    async def on_connect(self) -> None:
        try:
            state = await self._state()
        except AppError as exc:
            await self.send_app_error(exc)
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.session_id = state["session"]
        await self.channel_layer.group_add(events.dashboard_group(self.session_id), self.channel_name)
        await self.send_json({"type": "status", **state})

    @database_sync_to_async
    def _state(self) -> dict[str, Any]:
        session = selectors.owned_session(user=self.scope["user"], session_id=self.scope["url_route"]["kwargs"]["session_id"])
        return {"session": str(session.pk), "status": session.status, "detail": session.status_detail,
                "paused": session.ai_paused}

    async def disconnect(self, code: int) -> None:
        if self.session_id:
            await self.channel_layer.group_discard(events.dashboard_group(self.session_id), self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_error("read_only", "Use the REST API to control the session; this socket only reports.")

    async def live_event(self, event: dict[str, Any]) -> None:
        await self.send_json(event["payload"])
