"""The real browser VTS bridge (frontend/src/live/vts_bridge.js, run in node) against a fake
VTube Studio that enforces authentication, parameter creation and re-sending within a second."""
from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from tests.support.fake_vts import FakeVts

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "frontend" / "tests" / "tools" / "run_vts_bridge.mjs"
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs node")


async def _run_bridge(url: str, seconds: float) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        "node", "--experimental-websocket", "--no-warnings", str(DRIVER), url, str(seconds),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def _poll(fake: FakeVts, seconds: float) -> None:
    """Sample the injection gaps while the bridge runs (a gap only shows while it is open)."""
    end = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < end:
        fake.check_gaps()
        await asyncio.sleep(0.1)


async def test_bridge_authenticates_creates_parameters_injects_and_triggers_emotion():
    fake = await FakeVts().start()
    try:
        proc = await _run_bridge(fake.url, 3.5)
        await _poll(fake, 3.0)
        out, err = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 0, err.decode()
        result = json.loads(out.decode().strip().splitlines()[-1])
        assert "connected" in result["states"]
        assert (fake.token_requests, fake.auth_ok) == (1, 1)
        assert fake.created == {"AFBodyLean", "AFSmile", "AFBrowRaise", "AFBreath"}
        assert fake.errors == []
        assert fake.injections >= 15  # 10 Hz for ~2.5 s after the handshake
        assert fake.lost == set(), fake.max_gap_s
        assert max(fake.max_gap_s.values()) < 1.0
        assert fake.hotkeys_triggered == ["hk-smile"]
        assert fake.expressions == [("smile.exp3.json", True)]
        assert fake.last_values["AFSmile"] > 0.5  # the happy pose was lerped in
    finally:
        await fake.close()


async def test_bridge_reconnects_after_vts_restarts_and_reuses_its_token():
    fake = await FakeVts().start()
    try:
        proc = await _run_bridge(fake.url, 6)
        await _poll(fake, 1.5)
        assert fake.auth_ok == 1
        await fake.restart()
        await _poll(fake, 3.5)
        out, err = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 0, err.decode()
        assert fake.auth_ok == 2 and fake.token_requests == 1  # same token after the restart
        assert fake.injections > 20
    finally:
        await fake.close()


async def test_bridge_asks_for_a_new_token_when_vts_revoked_it():
    fake = await FakeVts().start()
    try:
        proc = await _run_bridge(fake.url, 5)
        await _poll(fake, 1.5)
        fake.revoke_tokens()
        await fake.restart()
        await _poll(fake, 3.0)
        await asyncio.wait_for(proc.communicate(), 20)
        assert fake.token_requests == 2 and fake.auth_refused == 1 and fake.auth_ok == 2
    finally:
        await fake.close()
