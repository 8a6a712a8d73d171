"""What one call costs the server in database work, counted (never timed): the signaling socket
reads the database once, while connecting; joining and relaying neither query it nor hop to the
process's one shared sync thread, where they would wait behind every other socket's queries."""
from __future__ import annotations

import pytest
from asgiref.sync import SyncToAsync, sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .conftest import open_socket
from .test_consumers import SDP

pytestmark = pytest.mark.django_db(transaction=True)


class SyncThreadWork:
    """Queries (CaptureQueriesContext on the sync thread's connection, where database_sync_to_async
    runs them) and hops to sync threads (every asgiref SyncToAsync call: database_sync_to_async,
    and channels' per-message clean-up of old connections)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.hops = 0
        real = SyncToAsync.__call__

        async def counted(hop: SyncToAsync, *args, **kwargs):
            self.hops += 1
            return await real(hop, *args, **kwargs)

        monkeypatch.setattr(SyncToAsync, "__call__", counted)
        self.queries = CaptureQueriesContext(connection)

    async def start(self) -> None:
        await sync_to_async(self.queries.__enter__)()
        self.hops = 0

    async def stop(self) -> tuple[list[str], int]:
        hops = self.hops

        def finish() -> list[str]:  # on the sync thread: `connection` is that thread's
            self.queries.__exit__(None, None, None)
            return [q["sql"] for q in self.queries.captured_queries]

        return await sync_to_async(finish)(), hops


async def test_connect_reads_the_database_once_join_and_relay_never(room_setup, monkeypatch):
    setup = await room_setup()
    code = setup["room"].code
    work = SyncThreadWork(monkeypatch)

    await work.start()
    a = await open_socket(code, token=setup["owner_token"])
    await a.send({"type": "ping", "t": 0})  # answered once connect, with its lookups, is done
    await a.recv_type("pong")
    connect_queries, connect_hops = await work.stop()
    # The API token (and its once-a-minute last-use stamp), then the room with its owner.
    assert len(connect_queries) == 3, connect_queries
    assert "accounts_apitoken" in connect_queries[0] and connect_queries[1].startswith("UPDATE")
    assert "rooms_room" in connect_queries[2]
    assert connect_hops >= 3  # each of those lookups waited for the sync thread
    b = await open_socket(code, token=setup["member_token"])
    await b.send({"type": "ping", "t": 0})
    await b.recv_type("pong")

    await work.start()
    await a.join()
    await b.join()
    await a.recv_type("peer_joined")
    await b.send({"type": "offer", "sdp": SDP})
    await a.recv_type("offer")
    await a.send({"type": "answer", "sdp": SDP})
    await b.recv_type("answer")
    await a.send({"type": "ping", "t": 1})
    await a.recv_type("pong")
    queries, hops = await work.stop()
    assert queries == []
    assert hops == 0  # channels' per-message hop to the sync thread is skipped
