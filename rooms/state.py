"""Live call state: who holds the two seats of a room. Lives only in the Django cache (Redis in
every real deployment, so several Daphne processes share it) with a TTL, never in module globals
and never in the database.

One cache key per room holds both seats; a short per-room lock key (cache `add` = Redis SET NX)
serializes read-modify-write, so two sockets racing for the last seat on different processes
cannot both win. Every seat carries a lease: a connected seat is renewed by its consumer's
heartbeat, so a seat whose process died frees itself; a disconnected seat is held for the
reconnection grace period. The key's TTL covers the longest lease, so a forgotten call vanishes
even when nobody is left to clean up.

No SDP, candidates or avatar parameters are ever written here.
"""
from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from dataclasses import asdict, dataclass, field

from django.core.cache import cache

SEATS = 2
GRACE_S = 30.0  # a dropped participant may rejoin this long and keep their seat
LEASE_S = 60.0  # a connected seat lives this long without a heartbeat
HEARTBEAT_S = 20.0  # consumers renew their lease this often
LOCK_TTL_S = 5  # a crashed lock holder blocks the room at most this long
LOCK_WAIT_S = 5.0


def call_key(code: str) -> str:
    return f"rooms:call:{code}"


def lock_key(code: str) -> str:
    return f"rooms:lock:{code}"


def practice_key(code: str) -> str:
    return f"rooms:practice:{code}"


class RoomFull(Exception):
    pass


class StateBusy(Exception):
    """The room's lock could not be taken in time (a crashed holder, or extreme contention)."""


@dataclass
class Seat:
    peer_id: str
    identity: str  # "u:<user id>" or "g:<guest id>": who may resume this seat
    name: str
    role: str  # owner / member / guest
    channel: str | None  # channel-layer name of the connected socket; None while disconnected
    connected: bool
    until: float  # lease (connected) or grace deadline (disconnected), unix time
    joined_at: float = field(default_factory=time.time)

    def public(self) -> dict:
        return {"peer_id": self.peer_id, "name": self.name, "role": self.role, "connected": self.connected}


@dataclass
class ClaimResult:
    seat_index: int
    seat: Seat
    other: Seat | None
    resumed: bool
    replaced_channel: str | None  # the same participant's previous socket, to be told and closed


def _load(raw: object, now: float) -> list[Seat | None]:
    seats: list[Seat | None] = [None] * SEATS
    if isinstance(raw, dict):
        for index, data in enumerate(raw.get("seats", [])[:SEATS]):
            if data and data.get("until", 0) > now:  # an expired lease is an empty seat
                seats[index] = Seat(**data)
    return seats


async def _save(code: str, seats: list[Seat | None], now: float) -> None:
    live = [s for s in seats if s is not None]
    if not live:
        await cache.adelete(call_key(code))
        return
    ttl = max(1, int(max(s.until for s in live) - now) + 5)
    await cache.aset(call_key(code), {"seats": [asdict(s) if s else None for s in seats]}, timeout=ttl)


class _RoomLock:
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
        # Only delete our own lock: after LOCK_TTL_S another holder may own the key.
        if await cache.aget(self.key) == self.token:
            await cache.adelete(self.key)


async def get_seats(code: str) -> list[Seat | None]:
    return _load(await cache.aget(call_key(code)), time.time())


def get_seats_sync(code: str) -> list[Seat | None]:
    return _load(cache.get(call_key(code)), time.time())


async def claim_seat(*, code: str, identity: str, name: str, role: str, channel: str) -> ClaimResult:
    """Give `identity` a seat: its own (resume or move to this socket), else a free one."""
    async with _RoomLock(code):
        now = time.time()
        seats = await get_seats(code)
        index = next((i for i, s in enumerate(seats) if s and s.identity == identity), None)
        resumed = False
        replaced = None
        if index is not None:
            old = seats[index]
            assert old is not None
            resumed = True
            replaced = old.channel if old.connected and old.channel != channel else None
            seat = Seat(old.peer_id, identity, name, role, channel, True, now + LEASE_S, old.joined_at)
        else:
            index = next((i for i, s in enumerate(seats) if s is None), None)
            if index is None:
                raise RoomFull(code)
            seat = Seat("p_" + uuid.uuid4().hex[:12], identity, name, role, channel, True, now + LEASE_S)
        seats[index] = seat
        await _save(code, seats, now)
        return ClaimResult(index, seat, seats[1 - index], resumed, replaced)


async def renew_seat(*, code: str, peer_id: str, channel: str) -> bool:
    """Extend this socket's lease. False when the seat is no longer ours (moved or expired)."""
    async with _RoomLock(code):
        now = time.time()
        seats = await get_seats(code)
        for seat in seats:
            if seat and seat.peer_id == peer_id and seat.channel == channel and seat.connected:
                seat.until = now + LEASE_S
                await _save(code, seats, now)
                return True
        return False


async def release_seat(*, code: str, peer_id: str, channel: str, hangup: bool) -> Seat | None:
    """The socket is gone. Hang-up frees the seat; a drop holds it for GRACE_S. When no one is
    connected after a hang-up, the whole call is forgotten. Returns the other seat, if any."""
    async with _RoomLock(code):
        now = time.time()
        seats = await get_seats(code)
        index = next((i for i, s in enumerate(seats) if s and s.peer_id == peer_id), None)
        if index is None:
            return next((s for s in seats if s), None)
        seat = seats[index]
        assert seat is not None
        if seat.channel != channel:  # the seat moved to a newer socket: nothing to release
            return seats[1 - index]
        other = seats[1 - index]
        if hangup:
            seats[index] = None
            if other is None or not other.connected:
                seats = [None] * SEATS
        else:
            seat.connected = False
            seat.channel = None
            seat.until = now + GRACE_S
        await _save(code, seats, now)
        return other


async def drop_if_gone(*, code: str, peer_id: str) -> bool:
    """After the grace period: free the seat of `peer_id` if it did not come back. True if it is
    gone. A seat that came back, or dropped again later (its own, later deadline), stays."""
    async with _RoomLock(code):
        now = time.time()
        seats = await get_seats(code)
        index = next((i for i, s in enumerate(seats) if s and s.peer_id == peer_id), None)
        if index is None:
            return True
        seat = seats[index]
        assert seat is not None
        if seat.connected or seat.until > now + 0.5:
            return False
        seats[index] = None
        await _save(code, seats, now)
        return True


def forget_sync(code: str) -> list[Seat]:
    """Forget a room's call (room closed): returns the seats that were held, to notify them."""
    seats = [s for s in get_seats_sync(code) if s]
    cache.delete(call_key(code))
    return seats
