"""Per-character voices: chosen on the character form (a voice of the character's language, a
speed 0.5-2.0), kept in Character Card exports under `avatarforge/voice` and restored on import,
and the voice a voice conversation speaks with."""
from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from characters.models import Character
from characters.personas.cards import cards
from characters.personas.forms import CharacterForm
from chat.voice.worker import voice_for

pytestmark = pytest.mark.django_db

REMOTE_VOICES = [{"id": "nova-en", "name": "Nova", "language": "en", "gender": "female", "engine_voice": "nova"}]


@pytest.fixture
def gpu_voices(settings):
    """A deployment with a GPU speech engine: its voices come first (the default for English)."""
    settings.SPEECH_TTS_ENGINE = "openai"
    settings.SPEECH_TTS_URL = "http://127.0.0.1:9/v1"
    settings.SPEECH_TTS_VOICES = REMOTE_VOICES


def form_data(**extra):
    data = {"name": "Mina", "category": "original", "language": "en", "visibility": "private", "voice_speed": "1.0"}
    data.update(extra)
    return data


def test_the_form_keeps_a_voice_of_the_characters_language_and_its_speed(user):
    form = CharacterForm(data=form_data(voice_id="en-joe", voice_speed="1.4"), user=user)
    assert form.is_valid(), form.errors
    assert form.service_fields()["voice_id"] == "en-joe" and form.service_fields()["voice_speed"] == 1.4
    assert ("ko-robot", "Korean robot voice (espeak-ng) · ko") in form.fields["voice_id"].choices


@pytest.mark.parametrize(("extra", "field"), [
    ({"voice_id": "ko-robot"}, "voice_id"),  # speaks Korean; the character speaks English
    ({"voice_id": "no-such-voice"}, "voice_id"),
    ({"voice_speed": "2.5"}, "voice_speed"),
    ({"voice_speed": "0.2"}, "voice_speed"),
])
def test_the_form_refuses_a_wrong_voice_or_speed(user, extra, field):
    form = CharacterForm(data=form_data(**extra), user=user)
    assert not form.is_valid() and field in form.errors, form.errors


def test_an_imported_voice_this_server_lacks_stays_selectable(user):
    character = Character.objects.create(owner=user, name="Mina", voice_id="sovits-mina")
    form = CharacterForm(instance=character, user=user)
    assert "sovits-mina" in [value for value, _label in form.fields["voice_id"].choices]


def test_the_card_carries_the_voice_and_import_restores_it(api_client, user):
    character = Character.objects.create(owner=user, name="Mina", language="en", voice_id="en-joe", voice_speed=1.25)
    response = api_client.get(f"/api/characters/{character.pk}/export?format=v3&as=json")
    assert response.status_code == 200
    card = json.loads(response.content)
    assert card["data"]["extensions"]["avatarforge/voice"] == {"voice_id": "en-joe", "language": "en", "speed": 1.25, "engine": "piper"}

    upload = SimpleUploadedFile("mina.json", response.content, content_type="application/json")
    imported = api_client.post("/api/characters/import", {"file": upload}, format="multipart")
    assert imported.status_code == 201, imported.json()
    again = Character.objects.get(pk=imported.json()["id"])
    assert (again.voice_id, again.voice_speed) == ("en-joe", 1.25)
    assert "avatarforge/voice" not in again.extensions  # ours, not an unknown extension kept verbatim


def test_a_card_from_elsewhere_sets_the_voice_from_the_extension_alone():
    card = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {
        "name": "Rin", "extensions": {"avatarforge/voice": {"voice_id": "ko-robot", "language": "ko", "speed": 0.8}}}}
    parsed = cards.card_to_fields(card)
    assert parsed.fields["voice_id"] == "ko-robot" and parsed.fields["voice_speed"] == 0.8
    assert "avatarforge/voice" not in parsed.extensions


@pytest.mark.parametrize("voice", [{"speed": 3}, {"speed": "fast"}, {"speed": True}, "ko-robot", {"voice_id": 7}])
def test_a_bad_voice_extension_is_refused(voice):
    card = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Rin", "extensions": {"avatarforge/voice": voice}}}
    with pytest.raises(cards.CardError) as caught:
        cards.card_to_fields(card)
    assert caught.value.code == "card_wrong_type"


def test_a_voice_conversation_speaks_with_the_characters_voice(gpu_voices):
    assert voice_for("en").id == "nova-en"  # the deployment's default for English
    assert voice_for("en", "en-joe").id == "en-joe"  # the character's own
    assert voice_for("en", "ko-robot").id == "nova-en"  # it does not speak English: the default
    assert voice_for("ko", "en-joe").id == "ko-robot"
