"""`make run`'s provider for one voice worker (registered in chat's AppConfig.ready)."""
from __future__ import annotations

import sys
from pathlib import Path

from avatarforge.embedded import Process


def voice_worker_process(env: dict[str, str]) -> Process | None:
    manage = Path(__file__).resolve().parents[2] / "manage.py"
    # --loopback: on one machine the browser and the worker may share only 127.0.0.1.
    return Process("voice", [sys.executable, str(manage), "voice_worker", "--loopback"])
