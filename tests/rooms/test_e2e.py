"""End to end on loopback: real Daphne processes sharing Redis, real aiortc peers, the real
consumer; frames cross the DataChannel both ways; afterwards neither the database nor Redis (nor
the server logs) hold any of the call's SDP or frame bytes."""
from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time

import httpx
import pytest
import redis
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.core.cache import cache

from bench.servers import ROOT, daphne_servers
from rooms import state
from rooms.models import RoomInvite
from rooms.peer import AvatarPeer, allow_loopback_candidates
from rooms.protocol import Frame, decode, encode

from .conftest import db_text_hits, redis_hits

# The Daphne processes share the test database: an in-memory SQLite one cannot be shared.
needs_shared_database = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="the servers share the test database: needs PostgreSQL (DATABASE_URL), as in CI",
)
pytestmark = [pytest.mark.django_db(transaction=True), needs_shared_database, pytest.mark.slow]

_SECRETS = re.compile(r"^a=(?:ice-ufrag|ice-pwd|fingerprint):(.+)$", re.M)


@pytest.fixture(scope="module")
def servers(django_db_setup):
    with daphne_servers(2) as started:
        yield started


@pytest.fixture(autouse=True)
def _loopback():
    allow_loopback_candidates(only=True)


def _peer(server, code: str, token: str, **kwargs) -> tuple[AvatarPeer, list[str]]:
    seen_sdp: list[str] = []

    def on_event(name: str, data: dict) -> None:
        if name in ("offer", "answer"):
            seen_sdp.append(data["sdp"])

    peer = AvatarPeer(
        ws_url=f"{server.ws_base}/ws/rooms/{code}/",
        origin=server.http_url,
        headers=[("Authorization", f"Bearer {token}")],
        on_event=on_event,
        **kwargs,
    )
    return peer, seen_sdp


async def _until(predicate, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _until_forgotten(code: str) -> None:
    deadline = time.monotonic() + 15
    while await state.has_state(code):
        assert time.monotonic() < deadline, "the server did not forget the call"
        await asyncio.sleep(0.05)


def _sdp_secrets(sdps: list[str]) -> list[str]:
    found = [m.strip() for sdp in sdps for m in _SECRETS.findall(sdp)]
    assert found, "no ICE credentials found in the exchanged SDP"
    return found


async def test_two_aiortc_peers_hold_a_call_across_two_daphne_processes(servers, room_setup):
    setup = await room_setup()
    code = setup["room"].code
    first, second = servers
    a, sdp_a = _peer(first, code, setup["owner_token"], record=True)
    b, sdp_b = _peer(second, code, setup["member_token"], record=True)  # the other Daphne process

    run_a = asyncio.ensure_future(a.run(duration=60))
    await _until(lambda: a.joined is not None, "the first peer to join")
    run_b = asyncio.ensure_future(b.run(duration=60))
    await _until(lambda: a.stats.received >= 45 and b.stats.received >= 45, "frames both ways")

    # While the call runs, its seats are in Redis (the scanner can see them) but no SDP is.
    assert await state.has_state(code)
    secrets = _sdp_secrets(sdp_a + sdp_b)
    frames = [a.stats.received_frames[5], b.stats.received_frames[5]]
    assert await sync_to_async(redis_hits)([code]) != []  # positive control: the scan finds live keys
    assert await sync_to_async(redis_hits)(secrets + frames) == []

    a.stop()
    b.stop()
    await asyncio.gather(run_a, run_b)

    for me, other in ((a, b), (b, a)):
        assert me.stats.invalid == 0 and me.stats.errors == []
        assert me.stats.calls == 1 and len(me.stats.setup_ms) == 1
        for raw in me.stats.received_frames:
            frame = decode(raw)  # every frame that arrived is a valid v1 frame...
            assert len(raw) == 72 and frame.version == 1 and len(frame.blendshapes) == 52
            assert other.stats.sent_frames[frame.seq] == raw  # ...and exactly what the other side sent
    assert a.joined["initiator"] is False and b.joined["initiator"] is True

    # After hang-up: nothing of the call anywhere.
    await _until_forgotten(code)
    needles = [*secrets, *frames, *[f.hex() for f in frames]]
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.set("canary-e2e", b"x" + secrets[0].encode() + frames[0])  # the scanners must be able to fail
    try:
        assert len(await sync_to_async(redis_hits)(needles)) >= 2
    finally:
        client.delete("canary-e2e")
        client.close()
    assert await sync_to_async(redis_hits)(needles) == []
    assert await sync_to_async(redis_hits)([code]) == []  # not even the room's seats
    assert await database_sync_to_async(db_text_hits)([code]) != []  # positive control: the room row
    assert await database_sync_to_async(db_text_hits)(needles) == []
    for server in servers:
        log = server.log_text()
        assert not any(secret in log for secret in secrets)


async def test_practice_partner_mirrors_frames_back(servers, room_setup):
    setup = await room_setup()
    code = setup["room"].code
    server = servers[0]
    me, _sdp = _peer(server, code, setup["member_token"], record=True)
    run = asyncio.ensure_future(me.run(duration=90))
    await _until(lambda: me.joined is not None, "joining")

    async with httpx.AsyncClient(base_url=server.http_url, headers={"Authorization": f"Bearer {setup['member_token']}"}) as http:
        started = await http.post(f"/api/rooms/{code}/practice")
        assert started.status_code == 202, started.text
        again = await http.post(f"/api/rooms/{code}/practice")
        assert again.status_code == 409 and again.json()["code"] == "practice_running"

    await _until(lambda: me.stats.received >= 30, "mirrored frames", timeout=60)
    for raw in me.stats.received_frames:
        assert me.stats.sent_frames[decode(raw).seq] == raw  # our own frames, bounced back unchanged
    invite = await database_sync_to_async(RoomInvite.objects.get)(room=setup["room"], for_practice=True)
    assert invite.used_at is not None  # the mirror joined as a guest with its one-time invite

    me.stop()
    await run
    # The mirror leaves when alone; its supervisor frees the room's practice slot.
    deadline = time.monotonic() + 30
    while await cache.aget(state.practice_key(code)) is not None:
        assert time.monotonic() < deadline, "the practice partner did not leave"
        await asyncio.sleep(0.1)
    await _until_forgotten(code)


async def test_avatar_peer_command_replays_recorded_frames(servers, room_setup, tmp_path):
    setup = await room_setup()
    code = setup["room"].code
    server = servers[1]
    recorded = [Frame(rotation=(0.1 * i, -0.05 * i, 0.0), blendshapes=(i / 10,) * 52, speaking=i % 2 == 0) for i in range(1, 4)]
    frames_file = tmp_path / "frames.txt"
    frames_file.write_text("# three poses\n" + "".join(encode(f).hex() + "\n" for f in recorded), encoding="utf-8")

    me, _sdp = _peer(server, code, setup["owner_token"], record=True)
    run = asyncio.ensure_future(me.run(duration=60))
    await _until(lambda: me.joined is not None, "joining")
    command = await asyncio.create_subprocess_exec(
        sys.executable, "manage.py", "avatar_peer", f"{server.http_url}/rooms/{code}/",
        "--token", setup["member_token"], "--frames", str(frames_file), "--duration", "4",
        "--loopback-only", "--quiet",
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(command.communicate(), timeout=60)
    text = output.decode()
    assert command.returncode == 0, text
    received = int(re.search(r"received frames: (\d+)", text).group(1))
    assert received >= 30  # it counted the frames we sent it
    assert me.stats.received >= 30
    poses = {(round(f.rotation[0], 4), f.speaking) for f in (decode(encode(r)) for r in recorded)}
    assert {(round(decode(raw).rotation[0], 4), decode(raw).speaking) for raw in me.stats.received_frames} <= poses
    assert len({decode(raw).seq for raw in me.stats.received_frames}) == me.stats.received  # fresh sequence numbers
    me.stop()
    await run
    await _until_forgotten(code)
