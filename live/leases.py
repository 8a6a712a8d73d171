"""Which live worker holds which session: a Redis key per session with a short TTL, renewed by
its holder. A worker that dies lets its lease lapse and another worker picks the session up."""
from __future__ import annotations

import redis.asyncio as aioredis

from avatarforge.owned_keys import DELETE_IF_OWNER, RENEW_IF_OWNER

LEASE_TTL_MS = 15_000



def lease_key(session_id: str) -> str:
    return f"live:lease:{session_id}"


class Leases:
    def __init__(self, client: aioredis.Redis, owner: str) -> None:
        self.client = client
        self.owner = owner

    async def take(self, session_id: str) -> bool:
        return bool(await self.client.set(lease_key(session_id), self.owner, nx=True, px=LEASE_TTL_MS))

    async def renew(self, session_id: str) -> bool:
        return bool(await self.client.eval(RENEW_IF_OWNER, 1, lease_key(session_id), self.owner, LEASE_TTL_MS))

    async def release(self, session_id: str) -> None:
        await self.client.eval(DELETE_IF_OWNER, 1, lease_key(session_id), self.owner)

    async def holder(self, session_id: str) -> str | None:
        value = await self.client.get(lease_key(session_id))
        return value.decode() if isinstance(value, bytes) else value
