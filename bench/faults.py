"""Faults under a light request load: PostgreSQL and Redis restarted while a client keeps writing
through a real Daphne.

    python -m bench.faults [--rate 10] [--outage-s 3] [--settle-s 5]

Prints:
    FIGURE writes_lost <n> writes        writes answered 201 that are not in the database afterwards (goal 0)
    FIGURE bad_responses <n> responses   answers that are neither a success nor a 503
                                         `service_unavailable` in the error family (goal 0)
    FIGURE recovery_s <s> s              longest time from a service being back to the next accepted write

The run owns every service it touches: a private PostgreSQL cluster (initdb in a temporary
folder, run as the `postgres` user, on a free loopback port), a private redis-server and one
Daphne; all are stopped at the end. One client thread creates a character (POST /api/characters)
`--rate` times a second. PostgreSQL is stopped with `pg_ctl -m immediate` (a crash: committed
data must come back from the WAL), kept down `--outage-s`, started again; then Redis likewise
(restarted empty, as without persistence). Afterwards every accepted character id is looked up.

Not covered here (see the closing report): the Celery-worker SIGKILL during a generation job.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from .servers import free_port, server_env, start_daphne, start_redis, stop, wait_for_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(args: list[str]) -> None:
    prefix = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
    subprocess.run([*prefix, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class PrivatePostgres:
    """A throw-away cluster: trust authentication on loopback only, socket in its own folder."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="bench-faults-pg-"))
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        _as_postgres([str(PG_BIN / "initdb"), "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres"])

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-o", opts, "-l", str(self.dir / "log"),
                      "-w", "start"])  # fmt: skip
        wait_for_port(self.port, what="postgres")

    def stop(self, mode: str = "fast") -> None:
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", mode, "-w", "stop"])

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.dir, ignore_errors=True)


class Load(threading.Thread):
    """POST /api/characters at a steady rate; records every answer."""

    def __init__(self, base: str, token: str, rate: float) -> None:
        super().__init__(daemon=True)
        self.base, self.token, self.interval = base, token, 1.0 / rate
        self.running = True
        self.accepted: list[tuple[float, str]] = []  # (time, character id)
        self.unavailable = 0
        self.bad: list[str] = []
        self.sent = 0

    def run(self) -> None:
        n = 0
        while self.running:
            started = time.monotonic()
            n += 1
            body = json.dumps({"name": f"Load {n}", "personality": "Steady."}).encode()
            request = urllib.request.Request(
                f"{self.base}/api/characters", data=body, method="POST",
                headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            )  # fmt: skip
            self.sent += 1
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    data = json.loads(response.read())
                    if response.status == 201:
                        self.accepted.append((time.monotonic(), str(data["id"])))
                    else:
                        self.bad.append(f"{response.status} {str(data)[:200]}")
            except urllib.error.HTTPError as exc:
                raw = exc.read()
                try:
                    data = json.loads(raw)
                except ValueError:
                    data = None
                family = isinstance(data, dict) and set(data) == {"code", "message", "details"}
                if exc.code == 503 and family and data["code"] == "service_unavailable":
                    self.unavailable += 1
                else:
                    self.bad.append(f"{exc.code} {raw[:200]!r}")
            except (OSError, ValueError) as exc:  # no answer at all (timeout, reset)
                self.bad.append(f"no answer: {exc!r}")
            time.sleep(max(0.0, self.interval - (time.monotonic() - started)))

    def first_accept_after(self, t: float) -> float | None:
        return next((at for at, _id in self.accepted if at >= t), None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=10.0, help="writes per second")
    parser.add_argument("--outage-s", type=float, default=3.0, help="how long each service stays down")
    parser.add_argument("--settle-s", type=float, default=5.0, help="load before, between and after the faults")
    args = parser.parse_args(argv)

    pg = PrivatePostgres()
    workdir = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    redis_port = free_port()
    redis = None
    daphne = None
    load = None
    try:
        pg.start()
        redis = start_redis(redis_port, workdir)
        os.environ.update({
            "DJANGO_SETTINGS_MODULE": "avatarforge.settings", "AVATARFORGE_TESTING": "1", "DATABASE_URL": pg.url,
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "CHANNEL_PREFIX": "benchfaults",
            "AVATARFORGE_VAR_DIR": str(workdir / "var"), "MEDIA_ROOT": str(workdir / "media"), "LOG_LEVEL": "WARNING",
        })  # fmt: skip
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        from accounts.services import create_api_token, create_user
        from characters.models import Character

        user = create_user(email="faults@bench.invalid", password="bench-password-1")
        token = create_api_token(user=user, name="bench")[1]
        from django.db import connection

        connection.close()  # the restarts below would break it anyway

        daphne = start_daphne(server_env({"THROTTLE_USER": "100000/min"}), timeout=180)
        load = Load(daphne.http_url, token, args.rate)
        load.start()
        time.sleep(args.settle_s)
        if not load.accepted:
            raise RuntimeError(f"no write accepted before the faults: {load.bad[:3]}")

        recoveries = {}
        for name in ("postgres", "redis"):
            print(f"# stop {name}", file=sys.stderr)
            if name == "postgres":
                pg.stop("immediate")
            else:
                redis.terminate()
                redis.wait(timeout=10)
            time.sleep(args.outage_s)
            if name == "postgres":
                pg.start()
            else:
                redis = start_redis(redis_port, workdir)
            back = time.monotonic()
            time.sleep(args.settle_s)
            first = load.first_accept_after(back)
            recoveries[name] = (first - back) if first is not None else float("inf")
        load.running = False
        load.join(timeout=15)

        ids = [cid for _at, cid in load.accepted]
        found = set(str(pk) for pk in Character.objects.filter(pk__in=ids).values_list("pk", flat=True))
        writes_lost = sum(1 for cid in ids if cid not in found)
    finally:
        if load is not None:
            load.running = False
        if daphne is not None:
            stop(daphne)
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)
        pg.remove()
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"FIGURE writes_lost {writes_lost} writes")
    print(f"FIGURE bad_responses {len(load.bad)} responses")
    print(f"FIGURE recovery_s {max(recoveries.values()):.2f} s")
    print(f"# sent {load.sent}, accepted {len(ids)}, 503 service_unavailable {load.unavailable}, "
          f"recovery {', '.join(f'{k} {v:.2f} s' for k, v in recoveries.items())}", file=sys.stderr)
    for line in load.bad[:10]:
        print(f"# bad: {line}", file=sys.stderr)
    return 0 if writes_lost == 0 and not load.bad else 1


if __name__ == "__main__":
    raise SystemExit(main())
