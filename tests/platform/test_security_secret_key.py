"""Without SECRET_KEY, embedded and development installs make a random key of their own (the
source code's constant would let anyone forge download links and invites, and read avatar
files whose encryption key derives from it). Files written under the old constant stay readable."""
from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

from django.test import override_settings

from avatarforge.local_secret import LEGACY_EMBEDDED_SECRET_KEY, local_secret_key
from characters.avatars import crypto as storage_crypto

ROOT = Path(__file__).resolve().parents[2]


def _embedded_secret(var_dir: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST", "SECRET_KEY"))}
    env.pop("AVATARFORGE_TESTING", None)
    env.update(AVATARFORGE_EMBEDDED="1", AVATARFORGE_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="avatarforge.settings")
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SECRET_KEY)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_embedded_install_makes_and_keeps_its_own_key(tmp_path):
    first = _embedded_secret(tmp_path)
    assert first != LEGACY_EMBEDDED_SECRET_KEY and len(first) >= 50
    assert _embedded_secret(tmp_path) == first  # every process and restart reads the same key
    assert _embedded_secret(tmp_path / "other") != first  # another install, another key
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_local_secret_key_refuses_an_empty_file(tmp_path):
    path = tmp_path / "secret_key"
    path.write_text("\n")
    try:
        local_secret_key(path)
    except RuntimeError as exc:
        assert "secret_key" in str(exc)
    else:
        raise AssertionError("an empty key file was accepted")


def test_files_under_the_old_constant_key_stay_readable():
    with override_settings(SECRET_KEY=LEGACY_EMBEDDED_SECRET_KEY, STORAGE_ENCRYPTION_KEYS=[]):
        old, _size = storage_crypto.encrypt_file_to_temp(io.BytesIO(b"avatar bytes"))
        old_bytes = old.read()
    with override_settings(SECRET_KEY="n" * 60, STORAGE_ENCRYPTION_KEYS=[]):
        assert b"".join(storage_crypto.decrypt_stream(io.BytesIO(old_bytes))) == b"avatar bytes"
        current = storage_crypto.current_key()
        assert current.id != storage_crypto.key_id_of(io.BytesIO(old_bytes))  # new files use the install's key
