"""A real AvatarForge server and headless Chromium for browser tests and bench/browser_call.py.

The server is Daphne in a subprocess (`python -m daphne avatarforge.asgi:application`) on a free
loopback port, against its own database (PostgreSQL `<name>_live_<port>` next to DATABASE_URL's
database, or an SQLite file when DATABASE_URL is unset), migrated once, with REDIS_URL shared so
the channel layer and cache are the production kind. Test data is written through the app's own
services in a `manage.py shell` subprocess against the same database.

Chromium is Debian's /usr/bin/chromium driven by Python playwright (never `playwright install`),
with a fake camera playing ../shared/fixtures/camera/face.mjpeg.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT.parent / "shared" / "fixtures"
FACE_MJPEG = FIXTURES / "camera" / "face.mjpeg"
GODETTE = FIXTURES / "vrm" / "Godette_vrm_v4.vrm"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "correct-horse-battery-9"

# Flags that work on this kind of machine (../shared/fixtures/README.md) plus the fake camera.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    # Two pages share two cores: keep background pages' timers and rendering at full speed.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _live_database_url(tmp: Path, port: int) -> str:
    """Each live server gets its own database: several run in one session (the shared browser
    server plus per-module ones), and one dropping its database must not take another's."""
    url = os.environ.get("DATABASE_URL", "")
    if not url or url.startswith("sqlite"):
        return f"sqlite:///{tmp / 'live.sqlite3'}"
    parts = urlparse(url)
    name = parts.path.lstrip("/") or "avatarforge"
    return urlunparse(parts._replace(path=f"/{name}_live_{port}"))


def _recreate_postgres_db(url: str) -> None:
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = urlunparse(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


class LiveServer:
    """Daphne on 127.0.0.1:<free port> with its own migrated database."""

    def __init__(self, workdir: Path | None = None) -> None:
        self.tmp = Path(workdir or tempfile.mkdtemp(prefix="af-live-"))
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.database_url = _live_database_url(self.tmp, self.port)
        self.proc: subprocess.Popen | None = None
        self.log_path = self.tmp / "daphne.log"
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.database_url,
            AVATARFORGE_TESTING="1",  # test settings (fast hasher), no SECRET_KEY needed
            DEBUG="0",
            MEDIA_ROOT=str(self.tmp / "media"),
            AVATARFORGE_VAR_DIR=str(self.tmp / "var"),
            SITE_URL=self.base_url,  # the practice partner connects back here
            CHANNEL_PREFIX=f"{os.environ.get('CHANNEL_PREFIX') or 'asgi'}_live_{self.port}",
            PYTHONUNBUFFERED="1",
        )
        env.pop("DJANGO_SETTINGS_MODULE", None)
        self.env = env

    def start(self, timeout: float = 180) -> LiveServer:
        if self.database_url.startswith("postgres"):
            _recreate_postgres_db(self.database_url)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT, env=self.env, check=True, timeout=300,
        )  # fmt: skip
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self._log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "avatarforge.http_server", "-b", "127.0.0.1", "-p", str(self.port), "avatarforge.asgi:application"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daphne exited: {self.log_path.read_text()[-2000:]}")
            with suppress(OSError, urllib.error.URLError):
                with urllib.request.urlopen(f"{self.base_url}/api/health", timeout=2) as r:
                    if r.status < 500:
                        return self
            time.sleep(0.2)
        raise RuntimeError(f"daphne did not answer in {timeout}s: {self.log_path.read_text()[-2000:]}")

    def manage_python(self, code: str, timeout: float = 120) -> dict:
        """Run `code` in `manage.py shell` against the live database; it must print one JSON line."""
        out = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        if out.returncode != 0:
            raise RuntimeError(f"manage.py shell failed: {out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])

    def create_users(self, emails: list[str]) -> None:
        self.manage_python(
            "import json\n"
            "from accounts.models import Plan, User\n"
            f"for e in {emails!r}:\n"
            f"    User.objects.filter(email=e).exists() or User.objects.create_user(email=e, password={PASSWORD!r}, plan=Plan.objects.get(code='free'))\n"
            "print(json.dumps({'ok': True}))\n"
        )

    def create_vrm_actor(self, email: str, path: Path = GODETTE, name: str = "Godette actor") -> dict:
        """Upload a VRM through the avatar library's service and bind it to an actor."""
        return self.manage_python(
            "import json\n"
            "from accounts.models import User\n"
            "from characters.avatars import actors, services as s\n"
            "from characters.models import Avatar\n"
            f"u = User.objects.get(email={email!r})\n"
            f"a = Avatar.objects.filter(owner=u).first() or s.create_avatar_from_file(owner=u, file={str(path)!r}, filename={path.name!r})\n"
            f"actor = u.actors.first() or actors.create_actor(user=u, name={name!r}, avatar_id=a.pk)\n"
            "print(json.dumps({'avatar': str(a.pk), 'actor': actor.pk, 'file_hash': a.file_hash}))\n"
        )

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_log", None):
            self._log.close()
        if self.database_url.startswith("postgres"):
            with suppress(Exception):
                import psycopg

                parts = urlparse(self.database_url)
                admin = urlunparse(parts._replace(path="/postgres"))
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def launch_chromium(playwright, *, fake_video: Path = FACE_MJPEG, extra_args: list[str] | None = None):
    args = [*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={fake_video.resolve()}", *(extra_args or [])]
    return playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)


def login(context, base_url: str, email: str, password: str = PASSWORD):
    """A page of `context` signed in through the real login form."""
    page = context.new_page()
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    return page


def create_room(page, base_url: str, title: str = "Browser test") -> str:
    """Create a room from the rooms home page; returns its code (page ends on the lobby)."""
    page.goto(f"{base_url}/rooms/")
    page.fill("#room-title", title)
    with page.expect_navigation():
        page.click("form[action$='/rooms/new'] button[type=submit]")
    # /rooms/<code>/lobby/
    return page.url.rstrip("/").split("/")[-2]


def join_by_code(page, base_url: str, code: str) -> None:
    page.goto(f"{base_url}/rooms/")
    page.fill("#room-code", code)
    with page.expect_navigation():
        page.click("form[action$='/rooms/join'] button[type=submit]")


def enter_call(page, base_url: str, code: str) -> None:
    page.goto(f"{base_url}/rooms/{code}/")
    page.wait_for_function("() => window.__afStats !== undefined")


def reset_samples_once_tracking(receiver, *others, timeout_ms: int = 60_000) -> None:
    """Start the measured window once the receiver has had a tracked face from the other side.

    Until the sender's tracker has loaded its model and found the face, its frames honestly say
    "face lost" (the idle animation runs); that start-up time grows with the machine's load, so
    it stays out of the steady-state samples the tests assert on.
    """
    pages = (receiver, *others)
    for page in pages:
        page.evaluate("() => window.__afStats.resetSamples()")
    # Ten tracked frames since the reset: the model is loaded and any avatar switched in just
    # before (VRM parsing, first shader compiles) no longer holds the tracker up.
    receiver.wait_for_function("() => window.__afStats.faceFramesReceived >= 10", timeout=timeout_ms)
    for page in pages:
        page.evaluate("() => window.__afStats.resetSamples()")


def stats(page) -> dict:
    """A plain snapshot of window.__afStats."""
    return page.evaluate(
        """() => { const s = window.__afStats; const o = {};
        for (const k of Object.keys(Object.getOwnPropertyDescriptors(s))) { if (typeof s[k] !== 'function') o[k] = s[k]; }
        return o; }"""
    )


def pearson(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    if n < 3:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / ((sxx * syy) ** 0.5) if sxx > 0 and syy > 0 else 0.0


def roll_pairs(sent: list[list[float]], received: list[list[float]]) -> tuple[list[float], list[float]]:
    """Pair the receiver's decoded roll with the sender's raw tracked roll by capture timestamp."""
    by_ts = {int(ts): roll for ts, roll in sent}
    xs, ys = [], []
    for ts, roll in received:
        raw = by_ts.get(int(ts))
        if raw is not None:
            xs.append(raw)
            ys.append(roll)
    return xs, ys


def wait_for_roll_pairs(sender, receiver, count: int, timeout_s: float = 60) -> tuple[list[float], list[float]]:
    """Poll until `count` received rolls pair with the sender's tracked rolls (or the ceiling passes).

    Counting received frames is not enough: when the tracker is slow (a loaded CI machine) the
    sender fills the gaps with idle frames, which have no tracked roll to pair with.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        xs, ys = roll_pairs(stats(sender)["sentRoll"], stats(receiver)["recvRoll"])
        if len(xs) >= count or time.monotonic() > deadline:
            return xs, ys
        receiver.wait_for_timeout(250)


def voice_worker_announced(server: LiveServer, proc: subprocess.Popen) -> bool:
    """A voice worker started for `server` is announced with a fresh heartbeat: alive by the rule
    the API applies (chat.voice.dispatch.health_section), not merely listed."""
    import redis

    from chat.voice import dispatch

    client = redis.Redis.from_url(server.env["REDIS_URL"])
    fresh = client.zrangebyscore(dispatch.WORKERS, time.time() - dispatch.WORKER_STALE, "+inf")
    return any(f"-{proc.pid}-" in member.decode() for member in fresh)


def wait_for_voice_worker(server: LiveServer, proc: subprocess.Popen) -> None:
    """Until the worker heartbeats (imports and models take a while on 2 cores). Call it in each
    test too: the suite's autouse cache fixture (conftest.py) flushes the Redis database the
    worker announces itself in, and a Talk or Call that comes first is told no_voice_worker."""
    for _ in range(600):
        if voice_worker_announced(server, proc) or proc.poll() is not None:
            break
        time.sleep(0.1)
    assert voice_worker_announced(server, proc), f"the voice worker (pid {proc.pid}) never announced itself"
