"""ASGI guard on request body size, counted as the bytes arrive.

ApiBodySizeMiddleware refuses a body from its Content-Length, but a chunked request
(Transfer-Encoding: chunked) has none, and Django's ASGI handler spools the whole body to a
temporary file before any middleware runs: without this guard a client could stream gigabytes
to the server's disk per request, past MAX_REQUEST_BYTES. This wrapper counts the body as
Daphne delivers it and answers 413 as soon as it passes the ceiling (before Django has read the
rest), whatever the headers say.
"""
from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.utils.translation import gettext


class _BodyTooLarge(Exception):
    pass


def _declared_length(scope: dict[str, Any]) -> int | None:
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RequestBodyLimit:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = settings.MAX_REQUEST_BYTES
        declared = _declared_length(scope)
        if declared is not None and declared <= limit:
            # An honest length: the server delivers at most that many bytes; the API middleware
            # still applies its own, smaller per-route rules.
            await self.app(scope, receive, send)
            return
        received = 0
        started = False

        async def counted_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        async def tracked_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _BodyTooLarge:
            if started:
                raise
            await _send_413(send, limit)


def too_large_body(limit: int) -> bytes:
    """The 413 body in the error family (also sent by avatarforge.http_server before Django runs)."""
    return json.dumps({
        "code": "payload_too_large",
        "message": gettext("The request body is too large (at most %(mb)d MB).") % {"mb": max(1, limit // 2**20)},
        "details": {"max_bytes": limit},
    }).encode()


async def _send_413(send: Any, limit: int) -> None:
    body = too_large_body(limit)
    await send({
        "type": "http.response.start",
        "status": 413,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close")],
    })
    await send({"type": "http.response.body", "body": body})
