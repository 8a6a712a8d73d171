"""GPU engines through our real client code, against servers speaking their real wire formats."""
import pytest

from inference.speech.audio import float_to_pcm16, read_wav, resample
from inference.speech.errors import EngineFailed, EngineUnavailable
from inference.speech.openai_tts import OpenAiTts
from inference.speech.sovits_tts import SovitsTts
from inference.speech.stt import OpenAiStt
from inference.speech.types import Voice
from tests.support.fake_speech import FakeOpenAiAudio, FakeSovits

from .conftest import speak, words

NOVA = Voice(id="nova-en", name="Nova", language="en", gender="female", engine="openai", engine_voice="nova")
TEXT = "Please call me tomorrow morning at the office."


async def test_openai_speech_streams_pcm_that_says_the_text(stt):
    with FakeOpenAiAudio() as server:
        engine = OpenAiTts(base_url=server.base_url, api_key="k", model="tts-1")
        chunks = [c async for c in engine.stream(TEXT, voice=NOVA, speed=1.0)]
        result = await engine.synthesize(TEXT, voice=NOVA)
    assert len(chunks) > 3 and all(c.sample_rate == 24000 for c in chunks)
    body = server.speech_requests[0].body
    assert body == {"model": "tts-1", "voice": "nova", "input": TEXT, "response_format": "pcm", "speed": 1.0}
    assert server.speech_requests[0].headers["authorization"] == "Bearer k"
    transcript = await stt.transcribe(result.pcm, sample_rate=24000, language="en")
    assert words(transcript.text) == words(TEXT)
    assert result.visemes and {e.viseme for e in result.visemes} - {"silence"}


async def test_openai_speech_errors():
    with FakeOpenAiAudio() as server:
        engine = OpenAiTts(base_url=server.base_url, api_key="k", model="tts-1")
        server.fail_status = 400
        with pytest.raises(EngineFailed):
            await engine.synthesize(TEXT, voice=NOVA)
        server.fail_status = 503
        with pytest.raises(EngineUnavailable):
            await engine.synthesize(TEXT, voice=NOVA)
        port = server.port
    down = OpenAiTts(base_url=f"http://127.0.0.1:{port}/v1", api_key="k", model="tts-1")
    with pytest.raises(EngineUnavailable):
        await down.synthesize(TEXT, voice=NOVA)
    with pytest.raises(EngineUnavailable):
        await down.health()


async def test_openai_transcription_uploads_a_wav_the_server_can_read(stt):
    received = {}

    def transcribe(wav: bytes, language: str | None) -> str:
        samples, rate = read_wav(wav)
        received.update(rate=rate, seconds=samples.size / rate, language=language)
        return stt.transcribe_sync(resample(samples, rate, 16000), "en").text

    audio = speak(TEXT, "en")
    with FakeOpenAiAudio(transcriber=transcribe) as server:
        engine = OpenAiStt(base_url=server.base_url, api_key="k", model="whisper-large-v3")
        transcript = await engine.transcribe(float_to_pcm16(resample(audio, 16000, 48000)), sample_rate=48000, language="en")
        assert await engine.health()
    assert words(transcript.text) == words(TEXT)
    assert received["rate"] == 16000 and received["language"] == "en"
    assert abs(received["seconds"] - audio.size / 16000) < 0.01
    assert server.requests[0].body["model"] == "whisper-large-v3"


async def test_gpt_sovits_streams_a_cloned_voice(stt):
    clone = Voice(
        id="mina", name="Mina", language="en", gender="female", engine="gpt-sovits",
        options={"ref_audio_path": "/refs/mina.wav", "prompt_text": "This is my voice.", "prompt_lang": "en"},
    )
    with FakeSovits(ref_clips={"/refs/mina.wav": "en"}) as server:
        engine = SovitsTts(base_url=server.base_url)
        chunks = [c async for c in engine.stream(TEXT, voice=clone)]
        assert await engine.health()
    body = server.requests[0].body
    assert body["ref_audio_path"] == "/refs/mina.wav" and body["prompt_text"] == "This is my voice."
    assert body["streaming_mode"] and body["media_type"] == "wav" and body["text_lang"] == "en"
    assert len(chunks) > 3 and chunks[0].sample_rate == 32000
    pcm = b"".join(c.pcm for c in chunks)
    transcript = await stt.transcribe(pcm, sample_rate=32000, language="en")
    assert words(transcript.text) == words(TEXT)


async def test_gpt_sovits_refusals_and_outage():
    unknown_clip = Voice(id="x", name="X", language="en", gender="female", engine="gpt-sovits", options={"ref_audio_path": "/refs/gone.wav"})
    with FakeSovits(ref_clips={}) as server:
        engine = SovitsTts(base_url=server.base_url)
        with pytest.raises(EngineFailed) as refused:
            await engine.synthesize("Hello.", voice=unknown_clip)
        port = server.port
    assert refused.value.details["message"] == "tts failed"
    with pytest.raises(EngineUnavailable):
        await SovitsTts(base_url=f"http://127.0.0.1:{port}").synthesize("Hello.", voice=unknown_clip)
