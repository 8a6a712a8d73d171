"""GPU host state in Redis: the lock per GPU, mode, queue, leases, replies, registry, switch log.

Nothing here is the truth about the GPU (the servers are: a new worker asks them); it is what
callers, the API, the admin page and health need to see from other processes.

Keys, per host H:
  gpu:lock:H:<index>   STRING owner id, PX ttl   the worker that owns the GPU (renewed)
  gpu:H:state          HASH mode, switching      switching = target while a switch runs
  gpu:H:pending        ZSET ticket -> deadline   requests sent to the worker, not yet answered
  gpu:H:leases         ZSET mode|ticket -> exp   work using a mode now (a switch waits for it)
  gpu:H:reply:<ticket> LIST                      the worker's answer to one request
  gpu:H:cancel:<ticket> STRING                   the caller gave up; the worker skips it
  gpu:H:switches       LIST of JSON              recent switches, newest first (50)
  gpu:hosts            HASH H -> JSON            heartbeat snapshot of every host
"""
from __future__ import annotations

import json
import threading
import time
from typing import Any

import redis
from django.conf import settings

from avatarforge.owned_keys import DELETE_IF_OWNER, RENEW_IF_OWNER

SWITCH_LOG_LENGTH = 50
REPLY_TTL_S = 600

# A request is granted on the spot only if the mode is current, no switch runs and nobody is
# queued (FIFO: nobody jumps the queue). KEYS: state, pending, leases. ARGV: mode, member,
# lease_ms. Returns 1 = granted (lease taken), 0 = must queue.
_GRANT_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local mode = redis.call('HGET', KEYS[1], 'mode')
local switching = redis.call('HGET', KEYS[1], 'switching')
if mode ~= ARGV[1] or (switching and switching ~= '') or redis.call('ZCARD', KEYS[2]) > 0 then
  return 0
end
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[2])
return 1
"""

# Leases of one mode still valid. KEYS: leases. ARGV: mode prefix ("chat|").
_COUNT_LEASES_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local n = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(member, 1, string.len(ARGV[1])) == ARGV[1] then n = n + 1 end
end
return n
"""


class GpuStore:
    def __init__(self, url: str) -> None:
        if not url:
            raise RuntimeError("the GPU worker needs Redis (REDIS_URL)")
        self.r = redis.Redis.from_url(url, decode_responses=True)
        # redis-py 8 reads with a 5 s socket timeout by default: a BLPOP waiting longer for a
        # switch would break. Blocking waits use their own client without a read timeout.
        self.blocking = redis.Redis.from_url(url, decode_responses=True, socket_timeout=None)
        self._grant = self.r.register_script(_GRANT_LUA)
        self._renew = self.r.register_script(RENEW_IF_OWNER)
        self._release = self.r.register_script(DELETE_IF_OWNER)
        self._count = self.r.register_script(_COUNT_LEASES_LUA)

    @staticmethod
    def _k(host: str, *parts: str) -> str:
        return ":".join(("gpu", host, *parts))

    # --- lock per GPU ----------------------------------------------------------------------------
    @staticmethod
    def lock_key(host: str, index: int) -> str:
        return f"gpu:lock:{host}:{index}"

    def acquire_lock(self, host: str, index: int, owner: str, ttl_s: float) -> bool:
        return bool(self.r.set(self.lock_key(host, index), owner, nx=True, px=int(ttl_s * 1000)))

    def renew_lock(self, host: str, index: int, owner: str, ttl_s: float) -> bool:
        return bool(self._renew(keys=[self.lock_key(host, index)], args=[owner, int(ttl_s * 1000)]))

    def release_lock(self, host: str, index: int, owner: str) -> None:
        self._release(keys=[self.lock_key(host, index)], args=[owner])

    def lock_owner(self, host: str, index: int) -> str | None:
        return self.r.get(self.lock_key(host, index))

    # --- mode state -------------------------------------------------------------------------------
    def set_state(self, host: str, *, mode: str | None, switching: str = "") -> None:
        self.r.hset(self._k(host, "state"), mapping={"mode": mode or "", "switching": switching})

    def get_state(self, host: str) -> dict[str, str]:
        return self.r.hgetall(self._k(host, "state"))

    # --- queue, leases, replies -----------------------------------------------------------------
    def try_grant(self, host: str, mode: str, ticket: str, lease_s: float) -> bool:
        keys = [self._k(host, "state"), self._k(host, "pending"), self._k(host, "leases")]
        return bool(self._grant(keys=keys, args=[mode, f"{mode}|{ticket}", int(lease_s * 1000)]))

    def add_pending(self, host: str, ticket: str, deadline_ms: int) -> None:
        self.r.zadd(self._k(host, "pending"), {ticket: deadline_ms})

    def remove_pending(self, host: str, ticket: str) -> None:
        self.r.zrem(self._k(host, "pending"), ticket)

    def pending_count(self, host: str) -> int:
        key = self._k(host, "pending")
        self.r.zremrangebyscore(key, "-inf", int(time.time() * 1000))
        return int(self.r.zcard(key))

    def add_lease(self, host: str, mode: str, ticket: str, lease_s: float) -> None:
        self.r.zadd(self._k(host, "leases"), {f"{mode}|{ticket}": int(time.time() * 1000 + lease_s * 1000)})

    def release_lease(self, host: str, mode: str, ticket: str) -> None:
        self.r.zrem(self._k(host, "leases"), f"{mode}|{ticket}")

    def lease_count(self, host: str, mode: str) -> int:
        return int(self._count(keys=[self._k(host, "leases")], args=[f"{mode}|"]))

    def cancel(self, host: str, ticket: str) -> None:
        self.r.set(self._k(host, "cancel", ticket), "1", ex=REPLY_TTL_S)

    def is_cancelled(self, host: str, ticket: str) -> bool:
        return bool(self.r.exists(self._k(host, "cancel", ticket)))

    def reply(self, host: str, ticket: str, payload: dict[str, Any]) -> None:
        key = self._k(host, "reply", ticket)
        pipe = self.r.pipeline()
        pipe.rpush(key, json.dumps(payload))
        pipe.expire(key, REPLY_TTL_S)
        pipe.execute()

    def wait_reply(self, host: str, ticket: str, timeout_s: float) -> dict[str, Any] | None:
        got = self.blocking.blpop([self._k(host, "reply", ticket)], timeout=max(0.001, timeout_s))
        return json.loads(got[1]) if got else None

    # --- registry and switch log ----------------------------------------------------------------
    def publish(self, host: str, snapshot: dict[str, Any]) -> None:
        self.r.hset("gpu:hosts", host, json.dumps({**snapshot, "at": time.time()}))

    def hosts(self) -> list[dict[str, Any]]:
        return [json.loads(v) for _h, v in sorted(self.r.hgetall("gpu:hosts").items())]

    def forget_host(self, host: str) -> None:
        self.r.hdel("gpu:hosts", host)

    def log_switch(self, host: str, record: dict[str, Any]) -> None:
        key = self._k(host, "switches")
        pipe = self.r.pipeline()
        pipe.lpush(key, json.dumps(record))
        pipe.ltrim(key, 0, SWITCH_LOG_LENGTH - 1)
        pipe.execute()

    def recent_switches(self, host: str, count: int = 20) -> list[dict[str, Any]]:
        return [json.loads(v) for v in self.r.lrange(self._k(host, "switches"), 0, count - 1)]


_stores: dict[str, GpuStore] = {}
_stores_lock = threading.Lock()


def store() -> GpuStore:
    url = settings.REDIS_URL
    with _stores_lock:
        if url not in _stores:
            _stores[url] = GpuStore(url)
        return _stores[url]
