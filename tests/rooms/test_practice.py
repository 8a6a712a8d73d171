"""The practice partner's supervisor: hard time limit, slot freed when the process ends."""
from __future__ import annotations

import sys
import time

from django.core.cache import cache

from rooms import practice


def _wait_gone(key: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while cache.get(key) is not None:
        assert time.monotonic() < deadline, "the practice slot was not freed"
        time.sleep(0.05)


def test_supervisor_kills_a_peer_past_its_hard_limit(monkeypatch):
    monkeypatch.setattr(practice, "HARD_LIMIT_S", 0.5)
    monkeypatch.setattr(practice, "command_argv", lambda **kw: [sys.executable, "-c", "import time; time.sleep(60)"])
    cache.add("rooms:practice:t1", "starting", 60)
    proc = practice.spawn(room_code="t1", base_url="http://x", invite_token="tok", lock_key="rooms:practice:t1")
    assert str(proc.pid) in cache.get("rooms:practice:t1")
    _wait_gone("rooms:practice:t1")
    assert proc.wait(timeout=10) != 0  # killed, not finished


def test_slot_is_freed_when_the_peer_exits(monkeypatch):
    monkeypatch.setattr(practice, "command_argv", lambda **kw: [sys.executable, "-c", "pass"])
    proc = practice.spawn(room_code="t2", base_url="http://x", invite_token="tok", lock_key="rooms:practice:t2")
    _wait_gone("rooms:practice:t2")
    assert proc.wait(timeout=10) == 0


def test_command_line_of_the_mirror():
    argv = practice.command_argv(base_url="https://calls.example.org/", invite_token="abc:def")
    assert argv[2:4] == ["avatar_peer", "https://calls.example.org/rooms/invite/abc:def/"]
    assert "--mirror" in argv and "--leave-when-alone" in argv
    assert argv[argv.index("--duration") + 1] == str(practice.DURATION_S)
