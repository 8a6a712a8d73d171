"""A throw-away embedded project (SQLite, local media, no Redis) for benchmarks that measure one
service in a subprocess, so the numbers never depend on, or touch, the developer's database."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def isolated_project(prefix: str, *, keep: bool = False) -> Iterator[tuple[Path, dict[str, str]]]:
    """Yield (workdir, env) for a migrated project in a temporary folder; removed afterwards
    unless `keep`. Stored files use the install's own key (STORAGE_ENCRYPTION_KEYS unset)."""
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{prefix}-"))
    try:
        for sub in ("media", "tmp"):
            (workdir / sub).mkdir()
        env = dict(os.environ)
        env.update(
            DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}",
            MEDIA_ROOT=str(workdir / "media"),
            AVATARFORGE_VAR_DIR=str(workdir / "var"),
            AVATARFORGE_EMBEDDED="1",
            REDIS_URL="",
            STORAGE_BACKEND="local",
            DJANGO_SETTINGS_MODULE="avatarforge.settings",
            TMPDIR=str(workdir / "tmp"),
        )
        env.pop("STORAGE_ENCRYPTION_KEYS", None)
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "--skip-checks", "-v", "0"], cwd=ROOT, env=env, check=True)
        yield workdir, env
    finally:
        if keep:
            print(f"# kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def run_worker(argv: list[str], env: dict[str, str]) -> object:
    """Run `python <argv>` in the project and return the JSON its last stdout line holds."""
    result = subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.stderr.write(result.stderr[-4000:])
        raise SystemExit(result.returncode)
    return json.loads(result.stdout.strip().splitlines()[-1])
