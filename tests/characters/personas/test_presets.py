"""Preset characters: at least six originals in English and Korean, loaded idempotently by
`manage.py load_presets`, which set-up runs."""
from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from characters.models import Character
from characters.personas import services as persona_services


def load() -> str:
    out = StringIO()
    call_command("load_presets", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_presets_load_and_are_idempotent():
    files = persona_services.preset_files()
    assert len(files) >= 6
    assert f"{2 * len(files)} created, 0 updated" in load()
    presets = Character.objects.filter(owner__isnull=True)
    keys = set(presets.values_list("preset_key", flat=True))
    assert len(keys) == len(files) >= 6
    for key in keys:
        assert set(presets.filter(preset_key=key).values_list("language", flat=True)) == {"en", "ko"}, key
    snapshot = {(c.preset_key, c.language): (c.pk, c.updated_at) for c in presets}

    assert "0 created, 0 updated" in load()
    again = Character.objects.filter(owner__isnull=True)
    assert {(c.preset_key, c.language): (c.pk, c.updated_at) for c in again} == snapshot


@pytest.mark.django_db
def test_presets_are_complete_public_and_bilingual():
    load()
    for c in Character.objects.filter(owner__isnull=True):
        assert c.visibility == "public" and not c.is_draft
        assert c.builtin_avatar in ("fox", "robot", "cat")
        for field in ("name", "description", "personality", "speech_style", "first_message", "example_dialogue",
                      "worldview", "guidelines", "scenario_situation"):
            assert getattr(c, field).strip(), (c.preset_key, c.language, field)
        if c.language == "ko":
            assert any("\uac00" <= ch <= "\ud7a3" for ch in c.description), c.preset_key
        c.full_clean()  # within every model limit


@pytest.mark.django_db
def test_presets_are_listed_in_the_ui_language_and_usable(api_client, client):
    load()
    en = api_client.get("/api/characters?scope=presets&language=en").json()
    assert en["count"] >= 6
    page = client.get("/characters/?scope=presets", HTTP_ACCEPT_LANGUAGE="ko")
    assert page.status_code == 200
    html = page.content.decode()
    assert "윤하늘" in html and "Yun Haneul" not in html


@pytest.mark.django_db
def test_changed_preset_file_updates_rows(tmp_path):
    load()
    source = persona_services.preset_files()[0]
    spec = json.loads(source.read_text(encoding="utf-8"))
    spec["translations"]["en"]["likes"] = "Something new"
    (tmp_path / source.name).write_text(json.dumps(spec), encoding="utf-8")
    out = StringIO()
    call_command("load_presets", "--dir", str(tmp_path), stdout=out)
    assert "0 created, 1 updated" in out.getvalue()
    assert Character.objects.get(preset_key=spec["key"], language="en").likes == "Something new"


@pytest.mark.django_db
def test_invalid_preset_file_is_refused(tmp_path):
    (tmp_path / "bad.json").write_text(json.dumps({
        "key": "bad", "category": "original", "translations": {"en": {"name": "x" * 500}},
    }), encoding="utf-8")
    with pytest.raises(CommandError, match="bad.json"):
        call_command("load_presets", "--dir", str(tmp_path), stdout=StringIO())
    assert not Character.objects.filter(preset_key="bad").exists()


def test_setup_runs_load_presets():
    setup = (Path(settings.BASE_DIR) / "scripts" / "setup.sh").read_text()
    assert "load_presets" in setup
