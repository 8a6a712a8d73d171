"""Start-up configuration: bad values stop it with a message; production values pass --deploy."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    for name in ("AVATARFORGE_TESTING", "AVATARFORGE_EMBEDDED", "SECRET_KEY", "DEBUG"):
        base.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [("LLM_TIMEOUT", "soon"), ("DEBUG", "maybe"), ("DATABASE_URL", "mysql://x/y"), ("TURN_TTL", "5"),
     ("STORAGE_BACKEND", "ftp"), ("LLM_MODELS", "[not json")],
)
def test_bad_value_stops_start_up_naming_the_variable(name, value):
    result = run_manage("check", **{"DEBUG": "1", name: value})
    assert result.returncode != 0
    assert name in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_secret_key_required_in_production():
    result = run_manage("check", DEBUG="0", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_values_pass_check_deploy(tmp_path):
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DEBUG="0", SECRET_KEY="p" + "k3y-" * 20, ALLOWED_HOSTS="avatars.example.com",
        SECURE_SSL_REDIRECT="1", SESSION_COOKIE_SECURE="1", CSRF_COOKIE_SECURE="1",
        SECURE_HSTS_SECONDS="31536000", BEHIND_PROXY="1", AVATARFORGE_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr + result.stdout
