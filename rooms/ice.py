"""ICE servers for RTCPeerConnection: STUN URLs, and TURN with coturn REST credentials.

coturn's `use-auth-secret` mode checks `password == base64(HMAC-SHA1(static-auth-secret, username))`
and refuses a username whose leading unix time has passed, so credentials expire by themselves
and the server stores nothing per user.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time

from django.conf import settings


def turn_credentials(*, subject: str, secret: str, ttl: int, now: float | None = None) -> tuple[str, str]:
    """(username, password) for coturn: username `<expiry unix time>:<subject>`."""
    expiry = int(now if now is not None else time.time()) + ttl
    username = f"{expiry}:{subject}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def ice_servers_for(*, subject: str, now: float | None = None) -> list[dict]:
    """The `iceServers` list for one participant. `subject` is the user id, or `guest-<id>`."""
    servers: list[dict] = []
    if settings.STUN_URLS:
        servers.append({"urls": list(settings.STUN_URLS)})
    if settings.TURN_URLS and settings.TURN_SECRET:
        username, credential = turn_credentials(
            subject=subject, secret=settings.TURN_SECRET, ttl=settings.TURN_TTL, now=now
        )
        servers.append({"urls": list(settings.TURN_URLS), "username": username, "credential": credential})
    return servers
