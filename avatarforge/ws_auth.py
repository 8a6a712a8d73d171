"""WebSocket authentication: the session cookie (browsers) or an API token (apps).

Apps pass the token as `Authorization: Bearer <token>` or as the subprotocol pair
`["avatarforge.token", "<token>"]` (browsers cannot set headers); never in the URL, which
proxies log.
"""
from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator
from django.contrib.auth.models import AnonymousUser

TOKEN_SUBPROTOCOL = "avatarforge.token"


def _token_from_scope(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            if kind.lower() in ("bearer", "token") and token:
                return token.strip()
    protocols = scope.get("subprotocols") or []
    if TOKEN_SUBPROTOCOL in protocols:
        index = protocols.index(TOKEN_SUBPROTOCOL)
        if index + 1 < len(protocols):
            return protocols[index + 1]
    return None


@database_sync_to_async
def _user_for_token(token: str):
    from accounts.services import authenticate_token

    user = authenticate_token(raw_token=token)
    return user or AnonymousUser()


class TokenAuthMiddleware:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        user = scope.get("user")
        if user is None or not user.is_authenticated:
            token = _token_from_scope(scope)
            if token:
                scope = dict(scope, user=await _user_for_token(token), auth_via_token=True)
        return await self.inner(scope, receive, send)


def WebSocketAuthMiddleware(inner: Any) -> Any:  # noqa: N802 - mirrors channels' AuthMiddlewareStack
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))


class BrowserOriginOrToken:
    """The handshake's Origin check, for browsers only.

    Browsers always send `Origin` on a WebSocket handshake, and they attach the session cookie
    on their own, so a page on another site could open a socket as the visitor: such sockets
    must come from one of ALLOWED_HOSTS (channels' AllowedHostsOriginValidator). Native and
    server-side clients (the `avatar_peer` command, apps) send no Origin and authenticate with
    an API token, which no other site can attach. A socket without Origin is therefore let
    through only when it carries a token, and with its cookies removed, so it is authenticated
    by that token or not at all (an invalid token is refused by the consumer with 4401).
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.browser = AllowedHostsOriginValidator(inner)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        headers = scope.get("headers") or []
        has_origin = any(name == b"origin" for name, _value in headers)
        if not has_origin and _token_from_scope(scope):
            token_only = [(name, value) for name, value in headers if name != b"cookie"]
            return await self.inner(dict(scope, headers=token_only), receive, send)
        return await self.browser(scope, receive, send)
