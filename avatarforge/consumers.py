"""Base for the project's JSON WebSocket consumers: auth in connect, errors in the shared format."""
from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils.translation import gettext as _

from .errors import AppError, error_body
from .json_body import decode_json_text
from .ws_auth import TOKEN_SUBPROTOCOL

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


class AppJsonConsumer(AsyncJsonWebsocketConsumer):
    """Accepts, then refuses unauthenticated users with an error frame and close code 4401."""

    require_auth = True
    max_frame_chars = 1024 * 1024  # a backstop; consumers check their own, smaller limits first

    async def accept_with_protocol(self) -> None:
        protocols = self.scope.get("subprotocols") or []
        await self.accept(TOKEN_SUBPROTOCOL if TOKEN_SUBPROTOCOL in protocols else None)

    async def connect(self) -> None:
        await self.accept_with_protocol()
        user = self.scope.get("user")
        if self.require_auth and (user is None or not user.is_authenticated):
            await self.send_error("not_authenticated", "Sign in or pass an API token to connect.")
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        await self.on_connect()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        """Every frame goes through the one bounded JSON decoder (avatarforge/json_body.py):
        malformed, oversized or too deeply nested frames get an error frame, never an exception
        that would kill the socket."""
        if text_data is None:
            await self.send_error("unsupported_frame", _("Send JSON text frames."))
            return
        try:
            content = decode_json_text(text_data, max_chars=self.max_frame_chars)
        except AppError as exc:
            await self.send_app_error(exc)
            return
        await self.receive_json(content, **kwargs)

    async def on_connect(self) -> None:
        """Subclasses set up here; the user is authenticated."""

    async def send_error(self, code: str, message: str, details: Any = None) -> None:
        await self.send_json({"type": "error", **error_body(code, message, details)})

    async def send_app_error(self, exc: AppError) -> None:
        await self.send_json({"type": "error", **exc.as_dict()})
