"""Seats in Redis (the Lua scripts production runs): atomic claims, leases, grace, forgetting."""
from __future__ import annotations

import asyncio
import json
import time
import types
import uuid
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings

from rooms import state


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def room_code(redis_client) -> Iterator[str]:
    """A fresh room code whose call state is removed after the test, also when the test fails."""
    code = "t" + uuid.uuid4().hex[:10]
    yield code
    for key in redis_client.scan_iter(match=f"*{state.call_key(code)}*"):
        redis_client.delete(key)


def _stored(redis_client: redis.Redis, code: str) -> tuple[bytes, dict]:
    keys = list(redis_client.scan_iter(match=f"*{state.call_key(code)}*"))
    assert len(keys) == 1
    return keys[0], json.loads(redis_client.get(keys[0]))


async def test_concurrent_claims_never_exceed_two_seats(room_code):
    async def claim(i: int):
        try:
            return await state.claim_seat(code=room_code, identity=f"u:{i}", name=str(i), role="member", channel=f"c{i}")
        except state.RoomFull:
            return None

    results = await asyncio.gather(*(claim(i) for i in range(6)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 2 and {w.seat_index for w in winners} == {0, 1}
    seats = await state.get_seats(room_code)
    assert {s.identity for s in seats} == {w.seat.identity for w in winners}


async def test_expired_lease_is_an_empty_seat(room_code, redis_client):
    claim = await state.claim_seat(code=room_code, identity="u:1", name="a", role="owner", channel="c1")
    assert await state.get_seats(room_code) != [None, None]
    # Its process died: no heartbeat renewed the lease, whose deadline (Redis time) has passed.
    key, seats = _stored(redis_client, room_code)
    seats["0"]["deadline"] = redis_client.time()[0] - 1
    redis_client.set(key, json.dumps(seats), keepttl=True)
    assert await state.get_seats(room_code) == [None, None]
    assert state.get_seats_sync(room_code) == [None, None]
    assert await state.renew_seat(code=room_code, peer_id=claim.seat.peer_id, channel="c1") is False
    other = await state.claim_seat(code=room_code, identity="u:2", name="b", role="member", channel="c2")
    assert other.seat_index == 0 and other.other is None  # the seat is free for someone else


async def test_leases_are_measured_on_the_redis_clock(room_code, redis_client, monkeypatch):
    # A Daphne process whose clock is wrong must not move anyone's lease.
    monkeypatch.setattr(state, "time", types.SimpleNamespace(time=lambda: 1_000.0, monotonic=time.monotonic))
    claim = await state.claim_seat(code=room_code, identity="u:1", name="a", role="owner", channel="c1")
    seconds, micros = redis_client.time()
    assert claim.seat.deadline == pytest.approx(seconds + micros / 1e6 + state.LEASE_S, abs=1)


async def test_release_with_grace_then_hangup_forgets_everything(room_code):
    code = room_code
    a = await state.claim_seat(code=code, identity="u:1", name="a", role="owner", channel="c1")
    b = await state.claim_seat(code=code, identity="u:2", name="b", role="member", channel="c2")
    released = await state.release_seat(code=code, peer_id=b.seat.peer_id, channel="c2", hangup=False)
    assert released.released and released.other.peer_id == a.seat.peer_id
    held = (await state.get_seats(code))[1]
    assert held.connected is False and held.deadline == pytest.approx(time.time() + state.GRACE_S, abs=2)
    # Dropping early is refused while the grace runs; the seat holder can resume.
    assert await state.drop_if_gone(code=code, peer_id=b.seat.peer_id) is False
    resumed = await state.claim_seat(code=code, identity="u:2", name="b", role="member", channel="c3")
    assert resumed.resumed and resumed.seat.peer_id == b.seat.peer_id and resumed.replaced_channel is None
    # A stale socket's release does not free the seat its successor holds, and says so.
    stale = await state.release_seat(code=code, peer_id=b.seat.peer_id, channel="c2", hangup=True)
    assert stale.released is False and stale.other.peer_id == a.seat.peer_id
    assert (await state.get_seats(code))[1].channel == "c3"
    await state.release_seat(code=code, peer_id=a.seat.peer_id, channel="c1", hangup=True)
    await state.release_seat(code=code, peer_id=b.seat.peer_id, channel="c3", hangup=True)
    assert not await state.has_state(code)


async def test_hangup_with_the_other_side_away_ends_the_call(room_code):
    a = await state.claim_seat(code=room_code, identity="u:1", name="a", role="owner", channel="c1")
    b = await state.claim_seat(code=room_code, identity="u:2", name="b", role="member", channel="c2")
    await state.release_seat(code=room_code, peer_id=b.seat.peer_id, channel="c2", hangup=False)
    await state.release_seat(code=room_code, peer_id=a.seat.peer_id, channel="c1", hangup=True)
    assert not await state.has_state(room_code)


async def test_the_key_carries_a_ttl(room_code, redis_client):
    await state.claim_seat(code=room_code, identity="u:1", name="a", role="owner", channel="c1")
    key, _seats = _stored(redis_client, room_code)
    assert 0 < redis_client.ttl(key) <= state.LEASE_S + state.KEY_SLACK_S + 1


def test_forget_returns_the_held_seats_and_removes_the_key(room_code):
    asyncio.run(state.claim_seat(code=room_code, identity="u:1", name="a", role="owner", channel="c1"))
    assert [s.identity for s in state.forget_sync(room_code)] == ["u:1"]
    assert state.get_seats_sync(room_code) == [None, None]


async def test_a_reloaded_page_that_joins_first_keeps_its_seat(room_code):
    # A reload: the new page's socket claims the seat while the old page's socket is still on it;
    # the old socket's close, handled afterwards, must neither hold nor free the seat.
    a = await state.claim_seat(code=room_code, identity="u:1", name="a", role="owner", channel="c1")
    b = await state.claim_seat(code=room_code, identity="u:2", name="b", role="member", channel="old")
    back = await state.claim_seat(code=room_code, identity="u:2", name="b", role="member", channel="new")
    assert back.resumed and back.replaced_channel == "old" and back.seat.peer_id == b.seat.peer_id
    late = await state.release_seat(code=room_code, peer_id=b.seat.peer_id, channel="old", hangup=False)
    assert late.released is False
    seats = await state.get_seats(room_code)
    assert seats[1].connected and seats[1].channel == "new" and seats[0].peer_id == a.seat.peer_id


async def test_a_connected_participant_frees_the_seat_held_for_the_other(room_code):
    a = await state.claim_seat(code=room_code, identity="u:1", name="a", role="owner", channel="c1")
    b = await state.claim_seat(code=room_code, identity="u:2", name="b", role="member", channel="c2")
    # While b is connected, nothing is freed.
    assert await asyncio.to_thread(state.free_held_seat_sync, code=room_code, identity="u:1") is None
    await state.release_seat(code=room_code, peer_id=b.seat.peer_id, channel="c2", hangup=False)
    # Someone without a seat (or the held participant itself) frees nothing.
    assert await asyncio.to_thread(state.free_held_seat_sync, code=room_code, identity="u:3") is None
    assert await asyncio.to_thread(state.free_held_seat_sync, code=room_code, identity="u:2") is None
    assert (await state.get_seats(room_code))[1] is not None
    freed = await asyncio.to_thread(state.free_held_seat_sync, code=room_code, identity="u:1")
    assert freed is not None and freed.peer_id == b.seat.peer_id
    seats = await state.get_seats(room_code)
    assert seats[0].peer_id == a.seat.peer_id and seats[1] is None
    # The seat is free for someone else; b coming back now gets a new seat, not its old one.
    c = await state.claim_seat(code=room_code, identity="u:3", name="c", role="guest", channel="c3")
    assert c.seat_index == 1 and not c.resumed
    with pytest.raises(state.RoomFull):
        await state.claim_seat(code=room_code, identity="u:2", name="b", role="member", channel="c4")


async def test_a_disconnected_participant_frees_nothing(room_code):
    a = await state.claim_seat(code=room_code, identity="u:1", name="a", role="owner", channel="c1")
    b = await state.claim_seat(code=room_code, identity="u:2", name="b", role="member", channel="c2")
    await state.release_seat(code=room_code, peer_id=a.seat.peer_id, channel="c1", hangup=False)
    await state.release_seat(code=room_code, peer_id=b.seat.peer_id, channel="c2", hangup=False)
    assert await asyncio.to_thread(state.free_held_seat_sync, code=room_code, identity="u:1") is None
    assert all(seat is not None for seat in await state.get_seats(room_code))
