"""Helpers for rooms tests: sockets through the real consumer stack, guests in sessions,
and searches of the database and Redis for things that must not be there."""
from __future__ import annotations

import contextlib
from collections.abc import Iterable

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

from accounts.services import create_api_token
from avatarforge.ws_auth import WebSocketAuthMiddleware
from rooms import practice, routing
from rooms.selectors import GUEST_SESSION_KEY
from rooms.services import create_room

app = WebSocketAuthMiddleware(URLRouter(routing.websocket_urlpatterns))
_open_sockets: list[Socket] = []  # disconnected after each test, so no consumer outlives its loop


@pytest.fixture(autouse=True)
async def _fresh_channel_layers():
    """Each test runs its own event loop; a RedisChannelLayer keeps locks and pools bound to the
    loop that first used it, so every test gets fresh layer instances."""
    channel_layers.backends.clear()
    yield
    while _open_sockets:
        with contextlib.suppress(Exception):
            await _open_sockets.pop().c.disconnect(timeout=2)
    for layer in list(channel_layers.backends.values()):
        close = getattr(layer, "close_pools", None)
        if close is not None:
            await close()
    channel_layers.backends.clear()


class Socket:
    """A WebsocketCommunicator with the small conveniences these tests need."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.c = communicator

    async def send(self, message: dict) -> None:
        await self.c.send_json_to(message)

    async def recv(self, timeout: float = 5) -> dict:
        return await self.c.receive_json_from(timeout=timeout)

    async def recv_type(self, kind: str, timeout: float = 5) -> dict:
        """The next message of `kind`, failing on anything else first."""
        message = await self.recv(timeout)
        assert message["type"] == kind, message
        return message

    async def nothing(self, timeout: float = 0.3) -> bool:
        return await self.c.receive_nothing(timeout=timeout)

    async def closed_with(self, timeout: float = 5) -> int:
        output = await self.c.receive_output(timeout=timeout)
        assert output["type"] == "websocket.close", output
        return output["code"]

    async def join(self) -> dict:
        await self.send({"type": "join"})
        return await self.recv_type("joined")

    async def close(self) -> None:
        await self.c.disconnect()


async def open_socket(code: str, *, token: str | None = None, session_key: str | None = None, application=None) -> Socket:
    headers = []
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if session_key:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode()))
    communicator = WebsocketCommunicator(application or app, f"/ws/rooms/{code}/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    sock = Socket(communicator)
    _open_sockets.append(sock)
    return sock


@pytest.fixture
def make_member(make_user):
    """A user with an API token: (user, raw token)."""

    def make(email: str | None = None):
        user = make_user(email)
        _token, raw = create_api_token(user=user, name="test")
        return user, raw

    return make


@pytest.fixture
def room_setup(make_member):
    """An owner, a second member and a room: returns dict with users, tokens and the room."""

    def make():
        owner, owner_token = make_member("owner@example.com")
        member, member_token = make_member("member@example.com")
        room = create_room(owner=owner, title="Test call")
        return {"owner": owner, "owner_token": owner_token, "member": member, "member_token": member_token, "room": room}

    return database_sync_to_async(make)


def guest_session(room_code: str, guest_id: str = "g1", name: str = "Guest") -> str:
    session = SessionStore()
    session[GUEST_SESSION_KEY] = {room_code: {"id": guest_id, "name": name}}
    session.save()
    return session.session_key


def db_text_hits(needles: Iterable[bytes | str]) -> list[str]:
    """Every table, every column, every row: where does any needle appear (as text or bytes)?"""
    wanted = [n.encode() if isinstance(n, str) else n for n in needles]
    wanted += [n.hex().encode() for n in list(wanted) if len(n) >= 8]  # bytea shows as hex text
    hits = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(include_views=False):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - names from introspection
            for row in cursor.fetchall():
                for value in row:
                    if value is None:
                        continue
                    raw = bytes(value) if isinstance(value, (bytes, bytearray, memoryview)) else str(value).encode()
                    for needle in wanted:
                        if needle in raw:
                            hits.append(f"{table}: {needle[:20]!r}")
    return hits


def redis_hits(needles: Iterable[bytes | str]) -> list[str]:
    """Every key and value in this Redis database (strings, lists, sets, sorted sets, hashes)."""
    import redis

    wanted = [n.encode() if isinstance(n, str) else n for n in needles]
    wanted += [n.hex().encode() for n in list(wanted) if len(n) >= 8]
    client = redis.Redis.from_url(settings.REDIS_URL)
    hits = []
    try:
        for key in client.scan_iter(count=500):
            kind = client.type(key).decode()
            if kind == "string":
                blobs = [client.get(key) or b""]
            elif kind == "list":
                blobs = client.lrange(key, 0, -1)
            elif kind == "set":
                blobs = list(client.smembers(key))
            elif kind == "zset":
                blobs = [member for member, _score in client.zrange(key, 0, -1, withscores=True)]
            elif kind == "hash":
                blobs = [b for pair in client.hgetall(key).items() for b in pair]
            else:
                blobs = []
            for blob in [key, *blobs]:
                for needle in wanted:
                    if needle in blob:
                        hits.append(f"{key!r}: {needle[:20]!r}")
    finally:
        client.close()
    return hits


@pytest.fixture
def fake_spawn(monkeypatch):
    """Practice partners requested by the API, recorded instead of starting a peer process."""
    calls = []
    monkeypatch.setattr(practice, "spawn", lambda **kwargs: calls.append(kwargs))
    return calls
