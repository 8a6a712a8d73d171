"""Live call state: who holds the two seats of a room. Lives only in Redis (or, without
REDIS_URL, in the process's cache: one process only) with a TTL, never in module globals and never
in the database.

One key per room holds both seats. With Redis, every change is one Lua script (atomic, one round
trip, no thread hops), so two sockets racing for the last seat on different Daphne processes
cannot both win. Without Redis, the same rules run in Python under a per-room cache lock.

Every seat carries a lease: a connected seat is renewed by its consumer's heartbeat, so a seat
whose process died frees itself; a disconnected seat is held for the reconnection grace period.
The key's TTL covers the longest lease, so a forgotten call vanishes even when nobody is left to
clean up. No SDP, candidates or avatar parameters are ever written here.
"""
from __future__ import annotations

import asyncio
import functools
import json
import math
import secrets
import time
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache

SEATS = 2
GRACE_S = 30.0  # a dropped participant may rejoin this long and keep their seat
LEASE_S = 60.0  # a connected seat lives this long without a heartbeat
HEARTBEAT_S = 20.0  # consumers renew their lease this often
LOCK_TTL_S = 5  # (cache fallback) a crashed lock holder blocks the room at most this long
LOCK_WAIT_S = 5.0
KEY_SLACK_S = 5  # the key outlives its longest lease by this much


def call_key(code: str) -> str:
    return f"rooms:call:{code}"


def lock_key(code: str) -> str:
    return f"rooms:lock:{code}"


def practice_key(code: str) -> str:
    return f"rooms:practice:{code}"


class RoomFull(Exception):
    pass


class StateBusy(Exception):
    """(cache fallback) The room's lock could not be taken in time."""


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


# --- the rules, in Python (cache fallback, and the reference for the Lua below) -----------------
# A room's value is {"0": seat dict, "1": seat dict}; a missing index is an empty seat.

Seats = dict[str, dict]


def _live(seats: Any, now: float) -> Seats:
    if not isinstance(seats, dict):
        return {}
    return {k: s for k, s in seats.items() if k in ("0", "1") and isinstance(s, dict) and s.get("deadline", 0) > now}


def _other_index(index: str) -> str:
    return "1" if index == "0" else "0"


def _py_claim(seats: Seats, now: float, identity: str, name: str, role: str, channel: str, peer_id: str) -> dict:
    index = next((k for k in ("0", "1") if k in seats and seats[k]["identity"] == identity), None)
    resumed, replaced = False, None
    if index is not None:
        seat = seats[index]
        resumed = True
        if seat.get("connected") and seat.get("channel") != channel:
            replaced = seat.get("channel")
    else:
        index = next((k for k in ("0", "1") if k not in seats), None)
        if index is None:
            return {"full": True}
        seat = {"peer_id": peer_id, "identity": identity, "joined_at": now}
    seat.update(name=name, role=role, channel=channel, connected=True, deadline=now + LEASE_S)
    seats[index] = seat
    return {"index": int(index), "seat": seat, "other": seats.get(_other_index(index)), "resumed": resumed,
            "replaced": replaced}  # fmt: skip


def _py_renew(seats: Seats, now: float, peer_id: str, channel: str) -> bool:
    for seat in seats.values():
        if seat["peer_id"] == peer_id and seat.get("channel") == channel and seat.get("connected"):
            seat["deadline"] = now + LEASE_S
            return True
    return False


def _py_release(seats: Seats, now: float, peer_id: str, channel: str, hangup: bool, grace: float) -> tuple[Seats, dict | None]:
    index = next((k for k in ("0", "1") if k in seats and seats[k]["peer_id"] == peer_id), None)
    if index is None:
        return seats, next(iter(seats.values()), None)
    seat, other = seats[index], seats.get(_other_index(index))
    if seat.get("channel") != channel:  # the seat moved to a newer socket: nothing to release
        return seats, other
    if hangup:
        del seats[index]
        if other is None or not other.get("connected"):
            seats = {}  # nobody is connected any more: the call is over, forget it
    else:
        seat.update(connected=False, channel=None, deadline=now + grace)
    return seats, other


def _py_drop(seats: Seats, now: float, peer_id: str) -> bool:
    index = next((k for k in ("0", "1") if k in seats and seats[k]["peer_id"] == peer_id), None)
    if index is None:
        return True
    seat = seats[index]
    if seat.get("connected") or seat["deadline"] > now + 0.5:
        return False
    del seats[index]
    return True


# --- the same rules in Lua, for Redis ---------------------------------------------------------

_LUA_COMMON = """
local now = tonumber(ARGV[1])
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

# ARGV: now, identity, name, role, channel, new peer id, lease
_LUA_CLAIM = _LUA_COMMON + """
local index = find('identity', ARGV[2])
local resumed, replaced = false, false
local seat
if index then
  seat = seats[index]
  resumed = true
  if seat.connected and seat.channel ~= ARGV[5] then replaced = seat.channel end
else
  if not seats['0'] then index = '0' elseif not seats['1'] then index = '1' end
  if not index then return cjson.encode({full = true}) end
  seat = {peer_id = ARGV[6], identity = ARGV[2], joined_at = now}
end
seat.name = ARGV[3]; seat.role = ARGV[4]; seat.channel = ARGV[5]; seat.connected = true
seat.deadline = now + tonumber(ARGV[7])
seats[index] = seat
save()
return cjson.encode({index = tonumber(index), seat = seat, other = seats[other_of(index)] or false,
                     resumed = resumed, replaced = replaced})
"""

# ARGV: now, peer id, channel, lease
_LUA_RENEW = _LUA_COMMON + """
local index = find('peer_id', ARGV[2])
if index and seats[index].channel == ARGV[3] and seats[index].connected then
  seats[index].deadline = now + tonumber(ARGV[4])
  save()
  return 1
end
return 0
"""

# ARGV: now, peer id, channel, hangup (1/0), grace
_LUA_RELEASE = _LUA_COMMON + """
local index = find('peer_id', ARGV[2])
if not index then return cjson.encode({other = seats['0'] or seats['1'] or false}) end
local seat, other = seats[index], seats[other_of(index)]
if seat.channel ~= ARGV[3] then return cjson.encode({other = other or false}) end
if ARGV[4] == '1' then
  seats[index] = nil
  if (not other) or (not other.connected) then seats = {} end
else
  seat.connected = false; seat.channel = nil; seat.deadline = now + tonumber(ARGV[5])
end
save()
return cjson.encode({other = other or false})
"""

# ARGV: now, peer id
_LUA_DROP = _LUA_COMMON + """
local index = find('peer_id', ARGV[2])
if not index then return 1 end
if seats[index].connected or seats[index].deadline > now + 0.5 then return 0 end
seats[index] = nil
save()
return 1
"""


def _seat(data: Any) -> Seat | None:
    return Seat.from_dict(data) if isinstance(data, dict) else None


def _as_list(seats: Seats) -> list[Seat | None]:
    return [_seat(seats.get("0")), _seat(seats.get("1"))]


class _RedisStore:
    """Scripts on a redis.asyncio client per event loop (clients are bound to their loop)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _client(self) -> Any:
        import redis.asyncio as aioredis

        loop = asyncio.get_running_loop()
        entry = self.clients.get(loop)
        if entry is None:
            client = aioredis.Redis.from_url(self.url, max_connections=1000, socket_timeout=10)
            scripts = {name: client.register_script(src) for name, src in (
                ("claim", _LUA_CLAIM), ("renew", _LUA_RENEW), ("release", _LUA_RELEASE), ("drop", _LUA_DROP))}
            entry = self.clients[loop] = (client, scripts)
        return entry

    async def run(self, name: str, code: str, *args: Any) -> Any:
        _client, scripts = self._client()
        return await scripts[name](keys=[self.key(code)], args=[repr(time.time()), *args])

    async def get(self, code: str) -> Seats:
        client, _scripts = self._client()
        raw = await client.get(self.key(code))
        return _live(json.loads(raw) if raw else {}, time.time())

    @functools.cached_property
    def sync_client(self) -> Any:
        """For pages and the REST API (sync views); redis-py's pool is thread-safe."""
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=10)

    def get_sync(self, code: str) -> Seats:
        raw = self.sync_client.get(self.key(code))
        return _live(json.loads(raw) if raw else {}, time.time())

    def delete_sync(self, code: str) -> None:
        self.sync_client.delete(self.key(code))

    async def exists(self, code: str) -> bool:
        client, _scripts = self._client()
        return bool(await client.exists(self.key(code)))

    @staticmethod
    def key(code: str) -> str:
        return "af:" + call_key(code)


class _RoomLock:
    """(cache fallback) A per-room lock key taken with `add`."""

    def __init__(self, code: str) -> None:
        self.key = lock_key(code)
        self.token = secrets.token_hex(8)

    async def __aenter__(self) -> None:
        deadline = time.monotonic() + LOCK_WAIT_S
        delay = 0.002
        while not await cache.aadd(self.key, self.token, timeout=LOCK_TTL_S):
            if time.monotonic() > deadline:
                raise StateBusy(self.key)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    async def __aexit__(self, *exc: object) -> None:
        if await cache.aget(self.key) == self.token:  # after LOCK_TTL_S it may be someone else's
            await cache.adelete(self.key)


async def _cache_save(code: str, seats: Seats, now: float) -> None:
    if not seats:
        await cache.adelete(call_key(code))
        return
    ttl = math.ceil(max(s["deadline"] for s in seats.values()) - now) + KEY_SLACK_S
    await cache.aset(call_key(code), seats, timeout=max(1, ttl))


@functools.lru_cache(maxsize=4)
def _store_for(url: str) -> _RedisStore:
    return _RedisStore(url)  # holds connection clients only; every room's state is in Redis


def _redis() -> _RedisStore | None:
    url = getattr(settings, "REDIS_URL", "")
    return _store_for(url) if url else None


# --- public API ---------------------------------------------------------------------------------


async def get_seats(code: str) -> list[Seat | None]:
    store = _redis()
    if store:
        return _as_list(await store.get(code))
    return _as_list(_live(await cache.aget(call_key(code)), time.time()))


def get_seats_sync(code: str) -> list[Seat | None]:
    store = _redis()
    if store:
        return _as_list(store.get_sync(code))
    return _as_list(_live(cache.get(call_key(code)), time.time()))


async def has_state(code: str) -> bool:
    """Whether anything of the room's call is still stored (tests: the server forgot the call)."""
    store = _redis()
    if store:
        return await store.exists(code)
    return await cache.aget(call_key(code)) is not None


async def claim_seat(*, code: str, identity: str, name: str, role: str, channel: str) -> ClaimResult:
    """Give `identity` a seat: its own (resume, or move to this socket), else a free one."""
    peer_id = "p_" + uuid.uuid4().hex[:12]
    store = _redis()
    if store:
        result = json.loads(await store.run("claim", code, identity, name, role, channel, peer_id, LEASE_S))
    else:
        async with _RoomLock(code):
            now = time.time()
            seats = _live(await cache.aget(call_key(code)), now)
            result = _py_claim(seats, now, identity, name, role, channel, peer_id)
            if not result.get("full"):
                await _cache_save(code, seats, now)
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
    store = _redis()
    if store:
        return bool(await store.run("renew", code, peer_id, channel, LEASE_S))
    async with _RoomLock(code):
        now = time.time()
        seats = _live(await cache.aget(call_key(code)), now)
        renewed = _py_renew(seats, now, peer_id, channel)
        if renewed:
            await _cache_save(code, seats, now)
        return renewed


async def release_seat(*, code: str, peer_id: str, channel: str, hangup: bool) -> Seat | None:
    """The socket is gone. Hang-up frees the seat; a drop holds it for GRACE_S. When no one is
    connected after a hang-up, the whole call is forgotten. Returns the other seat, if any."""
    store = _redis()
    if store:
        result = json.loads(await store.run("release", code, peer_id, channel, "1" if hangup else "0", GRACE_S))
        return _seat(result.get("other"))
    async with _RoomLock(code):
        now = time.time()
        seats = _live(await cache.aget(call_key(code)), now)
        seats, other = _py_release(seats, now, peer_id, channel, hangup, GRACE_S)
        await _cache_save(code, seats, now)
        return _seat(other)


async def drop_if_gone(*, code: str, peer_id: str) -> bool:
    """After the grace period: free the seat of `peer_id` if it did not come back. True if it is
    gone. A seat that came back, or dropped again later (its own, later deadline), stays."""
    store = _redis()
    if store:
        return bool(await store.run("drop", code, peer_id))
    async with _RoomLock(code):
        now = time.time()
        seats = _live(await cache.aget(call_key(code)), now)
        gone = _py_drop(seats, now, peer_id)
        await _cache_save(code, seats, now)
        return gone


def forget_sync(code: str) -> list[Seat]:
    """Forget a room's call (room closed): returns the seats that were held, to notify them."""
    seats = [s for s in get_seats_sync(code) if s]
    store = _redis()
    if store:
        store.delete_sync(code)
    else:
        cache.delete(call_key(code))
    return seats

