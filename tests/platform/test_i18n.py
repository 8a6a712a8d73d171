"""Korean is complete: every catalog entry translated, the compiled catalog current, pages in Korean."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

CATALOG = Path(settings.BASE_DIR) / "locale" / "ko" / "LC_MESSAGES"


def test_every_entry_is_translated():
    po = polib.pofile(str(CATALOG / "django.po"))
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []


def test_catalog_covers_every_source_string(tmp_path):
    """makemessages on a copy of the source finds no string the Korean catalog lacks (a string
    added to the code but never extracted would stay English on Korean pages)."""
    if not shutil.which("xgettext"):
        pytest.skip("gettext is not installed")
    root = Path(settings.BASE_DIR)
    skip = shutil.ignore_patterns(".git", ".venv", "node_modules", "static", "test-artifacts", "__pycache__", "*.mo")
    copy = tmp_path / "src"
    shutil.copytree(root, copy, ignore=skip)
    env = {**os.environ, "AVATARFORGE_TESTING": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ko", "--no-location", "-i", "tests/*"],
        cwd=copy, env=env, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    extracted = polib.pofile(str(copy / "locale" / "ko" / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in extracted if not e.obsolete and (e.fuzzy or not e.translated())]
    assert missing == []


def test_compiled_catalog_matches_the_source():
    po = {e.msgid: e.msgstr for e in polib.pofile(str(CATALOG / "django.po")).translated_entries() if not e.msgid_plural}
    mo = {e.msgid: e.msgstr for e in polib.mofile(str(CATALOG / "django.mo")) if not e.msgid_plural}
    assert {k: v for k, v in po.items() if mo.get(k) != v} == {}


@pytest.mark.django_db
def test_language_switcher_turns_pages_korean(client):
    response = client.post("/i18n/setlang/", {"language": "ko", "next": "/"})
    assert response.status_code == 302
    body = client.get("/").content.decode()
    assert 'lang="ko"' in body
    assert "아바타" in body
