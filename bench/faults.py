"""Faults under a light request load: PostgreSQL and Redis restarted while a client keeps writing
through a real Daphne.

    python -m bench.faults [--rate 10] [--outage-s 3] [--settle-s 5]

Prints:
    FIGURE writes_lost <n> writes        writes answered 201 that are not in the database afterwards (goal 0)
    FIGURE bad_responses <n> responses   answers that are neither a success nor a 503
                                         `service_unavailable` in the error family (goal 0)
    FIGURE recovery_s <s> s              longest time from a service being back to the next accepted write
    FIGURE jobs_lost <n> jobs            generation jobs that, after their Celery worker was killed
                                         with SIGKILL mid-job, neither succeeded (with their avatar
                                         stored) nor failed retryable (goal 0)

The run owns every service it touches: a private PostgreSQL cluster (initdb in a temporary
folder, run as the `postgres` user, on a free loopback port), a private redis-server and one
Daphne; all are stopped at the end. One client thread creates a character (POST /api/characters)
`--rate` times a second. PostgreSQL is stopped with `pg_ctl -m immediate` (a crash: committed
data must come back from the WAL), kept down `--outage-s`, started again; then Redis likewise
(restarted empty, as without persistence). Afterwards every accepted character id is looked up.

Then a Celery worker (the production command line, prefork) runs `--jobs` generation jobs and is
killed with SIGKILL, its whole process group, while one is running; a new worker starts, and the
stale-job sweep runs every second as Celery beat would. The unacked task stays in Redis, so the
killed job is failed retryable (`worker_lost`) by the sweep once its heartbeat is stale, and the
others run on the new worker.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
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


RETRYABLE_FAILURES = ("worker_lost", "queue_timeout")  # the job page offers Retry for these


def start_celery_worker(workdir: Path, n: int) -> subprocess.Popen:
    log = open(workdir / f"celery-{n}.log", "wb")  # noqa: SIM115 - lives as long as the worker
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "avatarforge", "worker", "-Q", "default", "-c", "1", "-l", "WARNING",
         "--without-gossip", "--without-mingle"],
        cwd=Path(__file__).resolve().parent.parent, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: SIGKILL takes the pool children too
    )  # fmt: skip


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def celery_fault(workdir: Path, jobs: int, deadline_s: float) -> tuple[int, dict[str, int]]:
    """Jobs lost when a worker is SIGKILLed mid-job: (lost, {outcome: count})."""
    from accounts.models import Plan, User
    from bench.generation import astronaut_jpeg
    from characters.avatars.storage import storage as avatar_storage
    from generation import services
    from generation.models import FINISHED, GenerationJob, JobStatus
    from generation.serializers import clean_options

    plan = Plan.objects.order_by("-generation_jobs_per_day").first()
    owner = User.objects.create_user(email="faults-jobs@bench.invalid", password="bench-password-1", plan=plan)
    worker = start_celery_worker(workdir, 1)
    try:
        ids = [services.create_job(owner=owner, photo=astronaut_jpeg(), filename="face.jpg",
                                   options=clean_options({"name": f"Fault {i}"})).pk for i in range(jobs)]
        end = time.monotonic() + 180
        while not GenerationJob.objects.filter(pk__in=ids, status=JobStatus.RUNNING).exists():
            if time.monotonic() > end:
                raise RuntimeError(f"no job started: {(workdir / 'celery-1.log').read_text()[-2000:]}")
            time.sleep(0.01)
        running = GenerationJob.objects.filter(pk__in=ids, status=JobStatus.RUNNING).values_list("pk", "stage").first()
        kill_group(worker)
        print(f"# SIGKILL while job {running[0]} was in stage {running[1]}", file=sys.stderr)
        worker = start_celery_worker(workdir, 2)
        end = time.monotonic() + deadline_s
        while GenerationJob.objects.filter(pk__in=ids).exclude(status__in=FINISHED).exists() and time.monotonic() < end:
            services.sweep_stale_jobs()  # what Celery beat runs every minute
            time.sleep(1.0)
    finally:
        kill_group(worker)
    outcomes: dict[str, int] = {}
    lost = 0
    for job in GenerationJob.objects.filter(pk__in=ids).select_related("avatar"):
        key = job.status if job.status != JobStatus.FAILED else f"failed:{job.error_code}"
        outcomes[key] = outcomes.get(key, 0) + 1
        kept = (job.status == JobStatus.SUCCEEDED and job.avatar is not None
                and avatar_storage().exists(job.avatar.storage_key))
        failed_retryable = job.status == JobStatus.FAILED and job.error_code in RETRYABLE_FAILURES
        lost += 0 if kept or failed_retryable else 1
    return lost, outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=10.0, help="writes per second")
    parser.add_argument("--outage-s", type=float, default=3.0, help="how long each service stays down")
    parser.add_argument("--settle-s", type=float, default=5.0, help="load before, between and after the faults")
    parser.add_argument("--jobs", type=int, default=3, help="generation jobs in the Celery worker kill")
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
            # A killed job's heartbeat goes stale after the stage limit + 30 s grace (sweep_stale_jobs).
            "GENERATION_STAGE_TIMEOUT": "10",
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

        print("# Celery worker SIGKILL during generation jobs", file=sys.stderr)
        jobs_lost, job_outcomes = celery_fault(workdir, args.jobs, deadline_s=10 + 30 + 120)
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
    print(f"FIGURE jobs_lost {jobs_lost} jobs")
    print(f"# generation jobs after the kill: {job_outcomes}", file=sys.stderr)
    print(f"# sent {load.sent}, accepted {len(ids)}, 503 service_unavailable {load.unavailable}, "
          f"recovery {', '.join(f'{k} {v:.2f} s' for k, v in recoveries.items())}", file=sys.stderr)
    for line in load.bad[:10]:
        print(f"# bad: {line}", file=sys.stderr)
    return 0 if writes_lost == 0 and jobs_lost == 0 and not load.bad else 1


if __name__ == "__main__":
    raise SystemExit(main())
