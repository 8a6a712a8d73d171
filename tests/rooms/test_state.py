"""Seats in the shared cache: atomic claims, leases, grace, forgetting."""
from __future__ import annotations

import asyncio
import time

import pytest
import redis
from django.conf import settings

from rooms import state

from .conftest import needs_redis


async def test_concurrent_claims_never_exceed_two_seats():
    async def claim(i: int):
        try:
            return await state.claim_seat(code="race", identity=f"u:{i}", name=str(i), role="member", channel=f"c{i}")
        except state.RoomFull:
            return None

    results = await asyncio.gather(*(claim(i) for i in range(6)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 2 and {w.seat_index for w in winners} == {0, 1}
    seats = await state.get_seats("race")
    assert {s.identity for s in seats} == {w.seat.identity for w in winners}
    state.forget_sync("race")


async def test_expired_lease_is_an_empty_seat(monkeypatch):
    claim = await state.claim_seat(code="lease", identity="u:1", name="a", role="owner", channel="c1")
    assert await state.get_seats("lease") != [None, None]
    later = time.time() + state.LEASE_S + 1  # its process died: no heartbeat renewed the lease
    monkeypatch.setattr(state.time, "time", lambda: later)
    assert await state.get_seats("lease") == [None, None]
    assert await state.renew_seat(code="lease", peer_id=claim.seat.peer_id, channel="c1") is False
    other = await state.claim_seat(code="lease", identity="u:2", name="b", role="member", channel="c2")
    assert other.seat_index == 0 and other.other is None  # the seat is free for someone else
    monkeypatch.undo()
    state.forget_sync("lease")


async def test_release_with_grace_then_hangup_forgets_everything():
    a = await state.claim_seat(code="g", identity="u:1", name="a", role="owner", channel="c1")
    b = await state.claim_seat(code="g", identity="u:2", name="b", role="member", channel="c2")
    other = await state.release_seat(code="g", peer_id=b.seat.peer_id, channel="c2", hangup=False)
    assert other.peer_id == a.seat.peer_id
    held = (await state.get_seats("g"))[1]
    assert held.connected is False and held.deadline == pytest.approx(time.time() + state.GRACE_S, abs=2)
    # Dropping early is refused while the grace runs; the seat holder can resume.
    assert await state.drop_if_gone(code="g", peer_id=b.seat.peer_id) is False
    resumed = await state.claim_seat(code="g", identity="u:2", name="b", role="member", channel="c3")
    assert resumed.resumed and resumed.seat.peer_id == b.seat.peer_id and resumed.replaced_channel is None
    # A stale socket's release does not free the seat its successor holds.
    await state.release_seat(code="g", peer_id=b.seat.peer_id, channel="c2", hangup=True)
    assert (await state.get_seats("g"))[1].channel == "c3"
    await state.release_seat(code="g", peer_id=a.seat.peer_id, channel="c1", hangup=True)
    await state.release_seat(code="g", peer_id=b.seat.peer_id, channel="c3", hangup=True)
    assert not await state.has_state("g")


async def test_hangup_with_the_other_side_away_ends_the_call():
    a = await state.claim_seat(code="h", identity="u:1", name="a", role="owner", channel="c1")
    b = await state.claim_seat(code="h", identity="u:2", name="b", role="member", channel="c2")
    await state.release_seat(code="h", peer_id=b.seat.peer_id, channel="c2", hangup=False)
    await state.release_seat(code="h", peer_id=a.seat.peer_id, channel="c1", hangup=True)
    assert not await state.has_state("h")


@needs_redis
async def test_the_key_carries_a_ttl():
    await state.claim_seat(code="ttl", identity="u:1", name="a", role="owner", channel="c1")
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"*{state.call_key('ttl')}*"))
        assert len(keys) == 1 and 0 < client.ttl(keys[0]) <= state.LEASE_S + 6
    finally:
        client.close()
    state.forget_sync("ttl")
