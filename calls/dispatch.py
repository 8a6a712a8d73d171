"""Character-call requests on the voice workers' queue (chat/voice/dispatch.py).

The API pushes a `character_call` request onto the shared REQUESTS list and waits on the
request's own claim key, where the worker that takes it pushes its id (BLPOP, so the wait ends
the moment it is taken). A request nobody takes within CLAIM_TIMEOUT is withdrawn (LREM): when
that removes it, no worker will ever run it and the user gets `no_voice_worker`; when it removes
nothing, a worker took it in the meantime, and its claim is a moment away. The request holds
ids, the room and a guest session key for the character's seat; never audio.
"""
from __future__ import annotations

import json
import time
import uuid
from typing import Any

from django.conf import settings

from chat.voice import dispatch as voice_dispatch

KIND = "character_call"
CLAIM_TIMEOUT = voice_dispatch.CLAIM_TIMEOUT
CLAIM_KEY_TTL = 60


def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)


def workers_alive() -> int:
    """Voice workers with a fresh heartbeat (0 without Redis: no worker can exist then)."""
    if not settings.REDIS_URL:
        return 0
    return voice_dispatch.health_section()["workers"]


def new_request(*, user_id: int, room_id: int, room_code: str, conversation_id: str, guest_session: str,
                base_url: str, max_s: int) -> dict[str, Any]:
    session = uuid.uuid4().hex
    return {
        "kind": KIND, "session": session, "user": user_id, "room": room_id, "room_code": room_code,
        "conversation": conversation_id, "guest_session": guest_session, "base_url": base_url, "max_s": max_s,
        "claim_key": f"calls:claim:{session}", "at": time.time(),
    }


def submit_and_wait(request: dict[str, Any], timeout: float | None = None) -> bool:
    """True once a worker took the request; False (request withdrawn) when none did in time."""
    timeout = CLAIM_TIMEOUT if timeout is None else timeout
    body = json.dumps(request)
    conn = _redis()
    try:
        conn.lpush(voice_dispatch.REQUESTS, body)
        if conn.blpop([request["claim_key"]], timeout=timeout) is not None:
            return True
        if conn.lrem(voice_dispatch.REQUESTS, 1, body):
            return False
        # Taken just now: the worker's claim is on its way.
        return conn.blpop([request["claim_key"]], timeout=timeout) is not None
    finally:
        conn.close()


async def confirm_claim(redis: Any, request: dict[str, Any], worker_id: str) -> None:
    await redis.rpush(request["claim_key"], worker_id)
    await redis.expire(request["claim_key"], CLAIM_KEY_TTL)
