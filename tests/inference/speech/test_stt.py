"""The embedded Whisper engine on speech made with espeak-ng (real models, real audio)."""
from inference.speech.audio import float_to_pcm16

from .conftest import speak, words


async def test_english_words_come_back(stt):
    audio = speak("Please call me tomorrow morning at the office.", "en")
    transcript = await stt.transcribe(float_to_pcm16(audio), sample_rate=16000, language="en")
    assert words(transcript.text) == ["please", "call", "me", "tomorrow", "morning", "at", "the", "office"]
    assert transcript.language == "en"
    assert 2.0 < transcript.audio_seconds < 6.0


async def test_korean_with_the_multilingual_model(stt):
    audio = speak("안녕하세요, 반갑습니다.", "ko", speed=120)
    transcript = await stt.transcribe(audio, sample_rate=16000, language="ko")
    assert "반갑습니다" in transcript.text
    assert transcript.language == "ko"
