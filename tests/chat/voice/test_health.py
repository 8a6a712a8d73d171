"""/api/health reports the voice workers that announce themselves (chat/voice/dispatch.py)."""
from __future__ import annotations

import asyncio
import time

import pytest

from chat.voice import dispatch

pytestmark = pytest.mark.django_db


def redis_do(call) -> None:
    """Run `call(conn)` on a fresh async Redis client in its own loop (as a worker would)."""
    async def go() -> None:
        conn = dispatch.client()
        try:
            await call(conn)
        finally:
            await conn.aclose()

    asyncio.run(go())


@pytest.fixture
def clean_redis(settings):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (REDIS_URL)")
    redis_do(lambda conn: conn.delete(dispatch.WORKERS, "voice:worker_sessions"))
    yield
    redis_do(lambda conn: conn.delete(dispatch.WORKERS, "voice:worker_sessions"))


def test_live_workers_and_their_sessions_are_listed_and_stale_ones_are_not(client, clean_redis):
    assert client.get("/api/health").json()["voice_workers"] == {"workers": 0, "sessions": {}}
    redis_do(lambda conn: dispatch.heartbeat(conn, "host-a:1", 2))
    redis_do(lambda conn: dispatch.heartbeat(conn, "host-b:7", 0))
    # A worker that stopped beating long ago (killed without leaving).
    redis_do(lambda conn: conn.zadd(dispatch.WORKERS, {"host-c:3": time.time() - dispatch.WORKER_STALE - 5}))

    section = client.get("/api/health").json()["voice_workers"]

    assert section == {"workers": 2, "sessions": {"host-a:1": 2, "host-b:7": 0}}
