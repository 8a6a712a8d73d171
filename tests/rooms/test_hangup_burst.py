"""Hanging up forgets the call even when the process is busy with Redis (real consumers, the real
channel layer and Redis). bench.signaling_load found 1504 of 2000 rooms still holding a call key
after everyone hung up: the hang-ups arrived together, more state commands were in flight than
the Redis pool allowed connections, and the surplus failed at once with MaxConnectionsError,
which the consumer treats as "Redis is down, let the lease run out"."""
from __future__ import annotations

import asyncio

import pytest

from rooms import state

from .test_consumers import two_joined

pytestmark = pytest.mark.django_db(transaction=True)

# More commands at once than the old pool had connections (1000): other calls' lease renewals
# and lobby reads in the same process when a whole event ends together.
BURST = 1100


async def test_simultaneous_hangups_amid_a_burst_forget_the_call(room_setup):
    setup = await room_setup()
    code = setup["room"].code
    a, _joined_a, b, _joined_b = await two_joined(setup)
    assert await state.has_state(code)

    failures: list[BaseException] = []
    stop = asyncio.Event()

    async def keep_busy() -> None:
        while not stop.is_set():
            wave = [state.get_seats(f"burst{i:05d}xx") for i in range(BURST)]
            failures.extend(r for r in await asyncio.gather(*wave, return_exceptions=True) if isinstance(r, BaseException))

    busy = asyncio.ensure_future(keep_busy())
    await asyncio.sleep(0)  # the first wave holds its connections before the hang-ups arrive
    await a.send({"type": "hangup"})
    await b.send({"type": "hangup"})
    assert await a.closed_with(timeout=30) == 1000
    assert await b.closed_with(timeout=30) == 1000
    stop.set()
    await busy
    assert not await state.has_state(code)  # nothing of the call is left for its lease to clean up
    assert failures == []  # every command waited for a connection; none was refused
