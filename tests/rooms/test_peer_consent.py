"""ICE consent of the aiortc peer (rooms.peer.tolerate_consent_delays): two real aioice
connections on loopback, whose answers to consent checks come late but come. aioice alone gives a
check 0.5 s and closes after six misses in a row; bench.call_soak lost every call that way on a
busy machine while frames were still arriving. RFC 7675 (and browsers): consent lapses only when
no check is answered for CONSENT_INTERVAL x CONSENT_FAILURES seconds."""
from __future__ import annotations

import asyncio

import pytest
from aioice import ice, stun

from rooms.peer import allow_loopback_candidates, tolerate_consent_delays

ANSWER_DELAY_S = 0.7  # longer than aioice's 0.5 s per check, far shorter than the consent window


def _answer_late(connection: ice.Connection) -> None:
    """Every STUN answer this connection sends leaves ANSWER_DELAY_S late (a busy peer)."""
    loop = asyncio.get_running_loop()
    for protocol in connection._protocols:
        send = protocol.send_stun

        def late(message: stun.Message, addr: tuple[str, int], send=send, protocol=protocol) -> None:
            if message.message_class != stun.Class.RESPONSE:
                send(message, addr)
                return

            def later() -> None:
                if protocol.transport is not None and not protocol.transport.is_closing():
                    send(message, addr)

            loop.call_later(ANSWER_DELAY_S, later)

        protocol.send_stun = late


async def _connected_pair() -> tuple[ice.Connection, ice.Connection]:
    a = ice.Connection(ice_controlling=True, components=1)
    b = ice.Connection(ice_controlling=False, components=1)
    await a.gather_candidates()
    await b.gather_candidates()
    for mine, theirs in ((a, b), (b, a)):
        mine.remote_username, mine.remote_password = theirs.local_username, theirs.local_password
        for candidate in theirs.local_candidates:
            await mine.add_remote_candidate(candidate)
        await mine.add_remote_candidate(None)
    await asyncio.gather(a.connect(), b.connect())
    return a, b


async def test_late_consent_answers_keep_the_connection(monkeypatch):
    allow_loopback_candidates(only=True)
    tolerate_consent_delays()
    # The real rules, on a shorter clock: a check every 0.2 s, consent lapses after 2 s unanswered.
    monkeypatch.setattr(ice, "CONSENT_INTERVAL", 0.2)
    monkeypatch.setattr(ice, "CONSENT_FAILURES", 10)
    a, b = await _connected_pair()
    try:
        _answer_late(a)
        _answer_late(b)
        # aioice alone closes both after ten late answers in a row (about 7 s here).
        await asyncio.sleep(9)
        await a.send(b"still here")
        assert await asyncio.wait_for(b.recv(), 5) == b"still here"
        await b.send(b"and here")
        assert await asyncio.wait_for(a.recv(), 5) == b"and here"
    finally:
        await a.close()
        await b.close()


async def test_unanswered_consent_still_closes(monkeypatch):
    allow_loopback_candidates(only=True)
    tolerate_consent_delays()
    monkeypatch.setattr(ice, "CONSENT_INTERVAL", 0.2)
    monkeypatch.setattr(ice, "CONSENT_FAILURES", 10)
    a, b = await _connected_pair()
    await b.close()  # gone without a word: nothing answers a's checks any more
    try:
        with pytest.raises(ConnectionError):
            while True:  # recv ends with ConnectionError once a closes for lack of consent
                await asyncio.wait_for(a.recv(), 30)
    finally:
        await a.close()
