"""Session requests between the voice socket (Daphne) and the voice workers, through Redis.

The consumer LPUSHes a request onto REQUESTS. Workers BLMOVE requests onto their own
`voice:claimed:<worker>` list (atomic: exactly one worker takes each) and answer the consumer's
channel with `voice.claimed`. A request nobody takes within CLAIM_TIMEOUT is LREMoved by the
consumer: when that removes it, no worker will ever see it and the user gets `no_voice_worker`;
when it removes nothing a worker took it in the meantime and its `voice.claimed` is on the way.
Workers announce themselves in WORKERS (a sorted set scored by their last heartbeat) for
/api/health. Requests hold ids and a channel name only, never audio.
"""
from __future__ import annotations

import json
import time
from typing import Any

from django.conf import settings

REQUESTS = "voice:requests"
WORKERS = "voice:workers"
PCM_FRAME_BYTES = 640  # 20 ms of 16 kHz mono int16, the socket fallback's frame both ways
CLAIM_TIMEOUT = 5.0  # seconds the socket waits for a worker to take its session
HEARTBEAT = 5.0
WORKER_STALE = 15.0

# Other kinds of voice work the workers take from the same queue, by the request's `kind`
# (requests without one are voice conversations): the dotted path of an async handler
# `(worker, redis, request)`. Apps above chat register theirs in AppConfig.ready (calls/apps.py
# registers "character_call"): chat may not import them, and a path keeps web processes from
# loading aiortc just to register it.
REQUEST_HANDLERS: dict[str, str] = {}


def register_request_kind(kind: str, handler_path: str) -> None:
    REQUEST_HANDLERS[kind] = handler_path


def claimed_key(worker_id: str) -> str:
    return f"voice:claimed:{worker_id}"


def client():
    import redis.asyncio as redis

    return redis.Redis.from_url(settings.REDIS_URL)


def request_body(*, session_id: str, user_id: int, conversation_id: str, reply_channel: str, language: str, transport: str) -> str:
    return json.dumps({
        "session": session_id, "user": user_id, "conversation": conversation_id, "reply_channel": reply_channel,
        "language": language, "transport": transport, "at": time.time(),
    })


async def submit(redis: Any, body: str) -> None:
    await redis.lpush(REQUESTS, body)


async def withdraw(redis: Any, body: str) -> bool:
    """True when the request was still waiting (no worker took it)."""
    return bool(await redis.lrem(REQUESTS, 1, body))


async def take(redis: Any, worker_id: str, timeout: float) -> dict[str, Any] | None:
    raw = await redis.blmove(REQUESTS, claimed_key(worker_id), timeout, "RIGHT", "LEFT")
    return json.loads(raw) if raw else None


async def finish(redis: Any, worker_id: str, request: dict[str, Any]) -> None:
    await redis.lrem(claimed_key(worker_id), 1, json.dumps(request))


async def heartbeat(redis: Any, worker_id: str, sessions: int) -> None:
    await redis.zadd(WORKERS, {worker_id: time.time()})
    await redis.hset("voice:worker_sessions", worker_id, sessions)
    await redis.zremrangebyscore(WORKERS, 0, time.time() - WORKER_STALE)


async def leave(redis: Any, worker_id: str) -> None:
    await redis.zrem(WORKERS, worker_id)
    await redis.hdel("voice:worker_sessions", worker_id)
    await redis.delete(claimed_key(worker_id))


def health_section() -> dict[str, Any]:
    """/api/health's `voice_workers`: workers with a fresh heartbeat, and the sessions each holds
    (no workers: voice conversations answer `no_voice_worker`)."""
    if not settings.REDIS_URL:
        return {"workers": 0, "sessions": {}}
    import redis as sync_redis

    conn = sync_redis.Redis.from_url(settings.REDIS_URL)
    try:
        alive = conn.zrangebyscore(WORKERS, time.time() - WORKER_STALE, "+inf")
        counts = conn.hmget("voice:worker_sessions", alive) if alive else []
    finally:
        conn.close()
    return {"workers": len(alive), "sessions": {w.decode(): int(n or 0) for w, n in zip(alive, counts, strict=True)}}
