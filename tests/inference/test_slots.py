"""Model slots under load: global limit, FIFO queue with positions, 429 when refusing, leases.
Runs the production Lua on the configured Redis (REDIS_URL, or the tests' embedded Redis)."""
from __future__ import annotations

import asyncio

import pytest

from inference import slots as concurrency


@pytest.fixture
def limiter_kind(settings):
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter("chat:slots:*"):
        client.delete(key)
    concurrency._limiters.clear()
    yield "redis"
    concurrency._limiters.clear()
    for key in client.scan_iter("chat:slots:*"):
        client.delete(key)


async def test_twenty_requests_for_twelve_slots(limiter_kind):
    pool = "load-test"
    positions: dict[int, list[int]] = {}
    order: list[int] = []
    holds = [asyncio.Event() for _ in range(20)]

    async def one(i: int) -> None:
        async def on_position(p: int) -> None:
            positions.setdefault(i, []).append(p)

        slot = await concurrency.acquire(pool, 12, on_position=on_position)
        order.append(i)
        await holds[i].wait()
        await slot.release()

    tasks = []
    for i in range(20):
        tasks.append(asyncio.create_task(one(i)))
        await asyncio.sleep(0.01)  # arrive in order

    async def until(condition) -> None:
        for _ in range(200):
            if condition():
                return
            await asyncio.sleep(0.02)
        raise AssertionError("timed out waiting for the limiter")

    await until(lambda: len(order) == 12 and len(positions) == 8)
    assert sorted(order) == list(range(12))  # the first twelve got slots at once
    assert sorted(positions) == list(range(12, 20))  # the other eight were queued
    assert [positions[i][0] for i in range(12, 20)] == list(range(1, 9))  # with their places in line
    stats = concurrency.stats(pool)
    assert (stats.in_flight, stats.waiting) == (12, 8)
    # Each freed slot goes to the longest waiter: first come, first served.
    for n, holder in enumerate(range(8)):
        holds[holder].set()
        await until(lambda n=n: len(order) == 13 + n)
        assert order[-1] == 12 + n
        assert concurrency.stats(pool).in_flight == 12
    for event in holds:
        event.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
    assert concurrency.stats(pool).in_flight == 0


async def test_try_acquire_never_jumps_the_queue(limiter_kind):
    pool = "jump"
    first = await concurrency.acquire(pool, 1)
    waiter = asyncio.create_task(concurrency.acquire(pool, 1))
    await asyncio.sleep(0.15)
    assert concurrency.try_acquire(pool, 1) is None  # busy
    await first.release()
    second = await asyncio.wait_for(waiter, timeout=5)
    assert concurrency.try_acquire(pool, 1) is None  # the waiter had priority and holds it
    await second.release()
    slot = concurrency.try_acquire(pool, 1)
    assert slot is not None
    slot.release_sync()


async def test_full_queue_is_refused(limiter_kind):
    pool = "full"
    holder = await concurrency.acquire(pool, 1)
    waiters = [asyncio.create_task(concurrency.acquire(pool, 1)) for _ in range(concurrency.max_queue_for(1))]
    await asyncio.sleep(0.2)
    with pytest.raises(concurrency.QueueFull):
        await concurrency.acquire(pool, 1)
    for task in waiters:
        task.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    await asyncio.sleep(0.05)
    assert concurrency.stats(pool).waiting == 0  # cancelled waiters left the line
    await holder.release()


async def test_a_dead_holder_frees_its_slot_when_the_lease_ends(limiter_kind, monkeypatch):
    monkeypatch.setattr(concurrency, "LEASE_MS", 200)
    pool = "lease"
    ticket = concurrency.new_ticket()
    assert concurrency.limiter().try_acquire(pool, 1, ticket)  # held, never renewed nor released
    assert concurrency.try_acquire(pool, 1) is None
    await asyncio.sleep(0.3)
    slot = concurrency.try_acquire(pool, 1)
    assert slot is not None
    slot.release_sync()


def test_retry_after_grows_with_the_queue():
    assert concurrency.retry_after_seconds(concurrency.PoolStats(12, 0), 12) >= 1
    assert concurrency.retry_after_seconds(concurrency.PoolStats(12, 30), 12) > concurrency.retry_after_seconds(
        concurrency.PoolStats(12, 0), 12)
