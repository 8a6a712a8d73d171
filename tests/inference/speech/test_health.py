"""/api/health reports the speech engines."""
import pytest

from tests.support.fake_speech import FakeOpenAiAudio

pytestmark = pytest.mark.django_db


def test_embedded_engines_are_healthy(client):
    components = client.get("/api/health").json()["components"]
    assert components["stt"]["status"] == "ok" and components["stt"]["detail"] == "faster-whisper: healthy"
    assert components["tts"]["status"] == "ok" and components["tts"]["detail"] == "piper: healthy, espeak-ng: healthy"
    assert components["tts"]["core"] is False


def test_a_gpu_engine_that_is_down_is_reported_without_failing_the_core(client, settings):
    with FakeOpenAiAudio() as server:
        port = server.port
    settings.SPEECH_TTS_ENGINE = settings.SPEECH_STT_ENGINE = "openai"
    settings.SPEECH_TTS_URL = settings.SPEECH_STT_URL = f"http://127.0.0.1:{port}/v1"
    settings.SPEECH_TTS_VOICES = [{"id": "nova", "language": "en"}]
    response = client.get("/api/health")
    components = response.json()["components"]
    assert components["tts"]["status"] == "error" and components["stt"]["status"] == "error"
    assert str(port) not in response.content.decode()  # no addresses on the public endpoint
    assert components["database"]["status"] == "ok"


def test_a_gpu_engine_that_answers_is_healthy(client, settings):
    with FakeOpenAiAudio() as server:
        settings.SPEECH_TTS_ENGINE = "openai"
        settings.SPEECH_TTS_URL = server.base_url
        settings.SPEECH_TTS_VOICES = [{"id": "nova", "language": "en"}]
        components = client.get("/api/health").json()["components"]
    assert components["tts"]["detail"] == "openai: healthy, piper: healthy, espeak-ng: healthy"
