"""Live progress of one job: `/ws/generate/<job id>/`.

On connect the owner gets the job's current status ({"type": "job", "job": <status shape>}); every
committed change then arrives the same way (the services announce "job.changed" to the job's group
and this consumer re-reads the job, so what it sends is what the database holds, in the viewer's
language). Clients may send {"action": "cancel"} or {"action": "refresh"}. Other users' jobs and
unknown ids close with 4404 after a not_found error frame.
"""
from __future__ import annotations

import time
import uuid
from collections import deque
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from avatarforge.consumers import CLOSE_NOT_FOUND, AppJsonConsumer
from avatarforge.errors import AppError

from . import selectors, services
from .serializers import status_payload

MAX_MESSAGE_BYTES = 1024
# Each client message re-reads the job (several queries): a client may send this many per window.
MESSAGES_PER_WINDOW = 20
RATE_WINDOW_S = 10.0


def scope_language(scope: dict[str, Any]) -> str:
    """The language a page would use: the language cookie, else Accept-Language, else the default."""
    cookies = scope.get("cookies") or {}
    supported = [code for code, _name in settings.LANGUAGES]
    cookie = cookies.get(settings.LANGUAGE_COOKIE_NAME)
    if cookie in supported:
        return cookie
    headers = dict(scope.get("headers") or [])
    accept = headers.get(b"accept-language", b"").decode("latin-1")
    for lang, _q in translation.trans_real.parse_accept_lang_header(accept):
        try:
            return translation.get_supported_language_variant(lang)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


class JobProgressConsumer(AppJsonConsumer):
    job_id: uuid.UUID | None = None
    group: str | None = None

    async def on_connect(self) -> None:
        self.recent: deque[float] = deque()
        self.language = scope_language(self.scope)
        self.job_id = self.scope["url_route"]["kwargs"]["job_id"]
        payload = await self._payload()
        if payload is None:
            await self.send_error("not_found", _("No such generation job."))
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.group = services.group_name(self.job_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json({"type": "job", "job": payload})

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    @database_sync_to_async
    def _payload(self) -> dict[str, Any] | None:
        with translation.override(self.language):
            try:
                job = selectors.job_for(user=self.scope["user"], job_id=self.job_id)
            except AppError:
                return None
            return status_payload(job)

    @database_sync_to_async
    def _cancel(self) -> None:
        services.cancel_job(user=self.scope["user"], job_id=self.job_id)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.group is None:
            return
        if text_data is None or len(text_data) > MAX_MESSAGE_BYTES:
            await self.send_error("invalid_message", _("Send a small JSON object."))
            return
        now = time.monotonic()
        while self.recent and self.recent[0] <= now - RATE_WINDOW_S:
            self.recent.popleft()
        if len(self.recent) >= MESSAGES_PER_WINDOW:
            await self.send_error("rate_limited", _("Too many messages. Slow down."), {"retry_after": int(RATE_WINDOW_S)})
            return
        self.recent.append(now)
        await super().receive(text_data=text_data)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        action = content.get("action") if isinstance(content, dict) else None
        if action == "refresh":
            await self._send_current()
        elif action == "cancel":
            try:
                await self._cancel()
            except AppError as exc:
                await self.send_app_error(exc)
                return
            await self._send_current()
        else:
            await self.send_error("unknown_action", _("Unknown action. Use “refresh” or “cancel”."), {"actions": ["refresh", "cancel"]})

    async def _send_current(self) -> None:
        payload = await self._payload()
        if payload is None:
            await self.send_error("not_found", _("No such generation job."))
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await self.send_json({"type": "job", "job": payload})

    async def job_changed(self, event: dict[str, Any]) -> None:
        await self._send_current()
