"""Base for the project's JSON WebSocket consumers: auth in connect, errors in the shared format."""
from __future__ import annotations

import json
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .errors import AppError, error_body
from .ws_auth import TOKEN_SUBPROTOCOL

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


class AppJsonConsumer(AsyncJsonWebsocketConsumer):
    """Accepts, then refuses unauthenticated users with an error frame and close code 4401."""

    require_auth = True

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

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        """Malformed JSON decodes to None so receive_json answers it with an error frame
        instead of the socket dying on an exception."""
        try:
            return json.loads(text_data)
        except ValueError:
            return None

    async def on_connect(self) -> None:
        """Subclasses set up here; the user is authenticated."""

    async def send_error(self, code: str, message: str, details: Any = None) -> None:
        await self.send_json({"type": "error", **error_body(code, message, details)})

    async def send_app_error(self, exc: AppError) -> None:
        await self.send_json({"type": "error", **exc.as_dict()})
