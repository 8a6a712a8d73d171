"""The TTS API: cache, voices, streaming, ownership, limits and errors, on real engines/servers."""
from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient
from rest_framework.throttling import SimpleRateThrottle

from inference.models import TtsClip
from inference.speech.audio import parse_wav_header, read_wav
from tests.support.fake_speech import FakeOpenAiAudio

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = "Please call me tomorrow morning."
REMOTE_VOICES = [{"id": "nova-en", "name": "Nova", "language": "en", "gender": "female", "engine_voice": "nova"}]


@pytest.fixture
def speech_server(settings):
    """A GPU speech server (OpenAI audio API) configured as the TTS engine."""
    with FakeOpenAiAudio() as server:
        settings.SPEECH_TTS_ENGINE = "openai"
        settings.SPEECH_TTS_URL = server.base_url
        settings.SPEECH_TTS_VOICES = REMOTE_VOICES
        yield server


def tts(client, **body):
    body.setdefault("text", TEXT)
    body.setdefault("voice_id", "nova-en")
    body.setdefault("language", "en")
    return client.post("/api/tts", body, format="json")


def test_voices_embedded(api_client):
    response = api_client.get("/api/tts/voices")
    assert response.status_code == 200
    assert response.json() == {"voices": [
        {"id": "en-joe", "name": "Joe (English)", "language": "en", "gender": "male", "engine": "piper", "robotic": False},
        {"id": "ko-robot", "name": "Korean robot voice (espeak-ng)", "language": "ko", "gender": "male", "engine": "espeak-ng", "robotic": True},
    ]}


def test_voices_with_a_gpu_engine_come_first(api_client, speech_server):
    voices = api_client.get("/api/tts/voices").json()["voices"]
    assert [v["id"] for v in voices] == ["nova-en", "en-joe", "ko-robot"]
    assert voices[0]["engine"] == "openai"


def test_same_request_twice_synthesizes_once(api_client, speech_server):
    first = tts(api_client)
    assert first.status_code == 200, first.json()
    second = tts(api_client)
    assert second.status_code == 200
    assert len(speech_server.speech_requests) == 1
    assert second.json()["file_id"] == first.json()["file_id"]
    assert (first.json()["cached"], second.json()["cached"]) == (False, True)
    # Every input is part of the key: another speed is another synthesis.
    faster = tts(api_client, speed=1.5)
    assert faster.json()["file_id"] != first.json()["file_id"]
    assert len(speech_server.speech_requests) == 2
    assert speech_server.speech_requests[1].body["speed"] == 1.5

    data = first.json()
    assert data["audio_url"] == f"/api/tts/{data['file_id']}.wav"
    assert data["engine"].startswith("openai:") and data["sample_rate"] == 24000
    assert data["visemes"] and data["visemes"][-1]["end_ms"] == pytest.approx(data["duration"] * 1000, abs=50)
    audio = api_client.get(data["audio_url"])
    assert audio.status_code == 200 and audio["Content-Type"] == "audio/wav"
    samples, rate = read_wav(b"".join(audio.streaming_content))
    assert rate == 24000 and samples.size / rate == pytest.approx(data["duration"], abs=0.01)


def test_the_engine_is_part_of_the_cache_key(api_client, speech_server, settings):
    tts(api_client)
    with FakeOpenAiAudio() as other:
        settings.SPEECH_TTS_URL = other.base_url
        response = tts(api_client)
        assert response.status_code == 200 and response.json()["cached"] is False
        assert len(other.speech_requests) == 1


def test_audio_only_for_its_owner(api_client, speech_server, other_user, anon_api_client):
    from rest_framework.test import APIClient

    url = tts(api_client).json()["audio_url"]
    mallory = APIClient()
    mallory.force_authenticate(other_user)
    response = mallory.get(url)
    assert response.status_code == 404 and response.json()["code"] == "tts_audio_not_found"
    assert mallory.delete(url).status_code == 404
    anonymous = anon_api_client.get(url)
    assert anonymous.status_code in (401, 403) and anonymous.json()["code"] == "not_authenticated"
    # The owner may delete it; then it is gone for them too.
    assert api_client.delete(url).status_code == 204
    assert api_client.get(url).status_code == 404
    assert not TtsClip.objects.exists()


def test_cache_is_per_owner(api_client, speech_server, other_user):
    from rest_framework.test import APIClient

    mine = tts(api_client).json()
    mallory = APIClient()
    mallory.force_authenticate(other_user)
    theirs = tts(mallory).json()
    assert theirs["file_id"] != mine["file_id"] and theirs["cached"] is False


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"language": "ja", "voice_id": "default"}, 400, "language_unsupported"),
        ({"voice_id": "nobody"}, 400, "unknown_voice"),
        ({"voice_id": "ko-robot", "language": "en"}, 400, "voice_language_mismatch"),
        ({"speed": 2.5}, 400, "invalid"),
        ({"speed": 0.4}, 400, "invalid"),
        ({"language": "fr"}, 400, "invalid"),
        ({"text": "   "}, 400, "invalid"),
        ({"text": "x" * 501}, 400, "text_too_long"),
    ],
)
def test_clear_errors(api_client, speech_server, body, status, code):
    response = tts(api_client, **body)
    assert response.status_code == status
    payload = response.json()
    assert payload["code"] == code and payload["message"]
    assert speech_server.speech_requests == []


def test_japanese_says_what_is_missing(api_client):
    payload = tts(api_client, voice_id="default", language="ja").json()
    assert "Japanese" in payload["message"] and payload["details"]["languages"] == ["en", "ko"]


def test_engine_down_is_503_and_costs_nothing(api_client, settings):
    with FakeOpenAiAudio() as server:
        port = server.port
    settings.SPEECH_TTS_ENGINE = "openai"
    settings.SPEECH_TTS_URL = f"http://127.0.0.1:{port}/v1"
    settings.SPEECH_TTS_VOICES = REMOTE_VOICES
    settings.TTS_DAILY_CHARS = {"free": len(TEXT)}
    response = tts(api_client)
    assert response.status_code == 503 and response.json()["code"] == "speech_engine_unavailable"
    assert not TtsClip.objects.exists()
    stream = api_client.post("/api/tts/stream", {"text": TEXT, "voice_id": "nova-en", "language": "en"}, format="json")
    assert stream.status_code == 503 and stream.json()["code"] == "speech_engine_unavailable"
    # Failed attempts did not use up the allowance.
    with FakeOpenAiAudio() as server:
        settings.SPEECH_TTS_URL = server.base_url
        assert tts(api_client).status_code == 200


def test_daily_plan_allowance(api_client, speech_server, settings, make_user):
    from rest_framework.test import APIClient

    settings.TTS_DAILY_CHARS = {"free": 50, "pro": 1000}
    assert tts(api_client, text="a" * 30).status_code == 200
    refused = tts(api_client, text="b" * 30)
    assert refused.status_code == 403
    assert refused.json()["code"] == "tts_daily_limit_exceeded" and refused.json()["details"]["used"] == 30
    assert tts(api_client, text="a" * 30).status_code == 200  # a cached repeat costs nothing
    assert len(speech_server.speech_requests) == 1
    pro = APIClient()
    pro.force_authenticate(make_user(plan="pro"))
    assert tts(pro, text="b" * 30).status_code == 200


def test_rate_limited(api_client, speech_server, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, "tts": "2/min"})
    assert tts(api_client).status_code == 200
    assert tts(api_client).status_code == 200
    third = tts(api_client)
    assert third.status_code == 429 and third.json()["code"] == "rate_limited"
    assert api_client.get("/api/tts/voices").status_code == 200  # reads are not counted


def test_embedded_korean_voice(api_client):
    response = tts(api_client, text="안녕하세요, 반갑습니다.", voice_id="default", language="ko")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["voice_id"] == "ko-robot" and data["engine"] == "espeak-ng" and data["duration"] > 1
    assert {v["viseme"] for v in data["visemes"]} - {"silence"}


async def test_streaming_variant_sends_wav_as_it_is_made(speech_server, user):
    client = AsyncClient()
    await client.aforce_login(user)
    response = await client.post("/api/tts/stream", {"text": TEXT, "voice_id": "nova-en", "language": "en"}, content_type="application/json")
    assert response.status_code == 200 and response["Content-Type"] == "audio/wav"
    assert response["X-Voice-Id"] == "nova-en"
    parts = [part async for part in response.streaming_content]
    assert len(parts) > 3  # chunks as they came, not one body
    data = b"".join(parts)
    rate, channels, bits, offset = parse_wav_header(data)
    assert (rate, channels, bits) == (24000, 1, 16)
    assert (len(data) - offset) / 2 / rate > 1.0
    assert not await TtsClip.objects.aexists()  # nothing stored
    # The request ran in the thread-sensitive executor: close its connection there, for teardown.
    await sync_to_async(connections.close_all)()


def test_schema_documents_the_tts_api(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in ("/api/tts", "/api/tts/stream", "/api/tts/voices", "/api/tts/{file_id}.wav"):
        assert path in schema["paths"], path
