"""Embedded TTS: Piper in its own process (English) and espeak-ng (Korean), heard back by Whisper."""
import asyncio

import numpy as np

from inference.speech.audio import pcm16_to_float
from inference.speech.config import EMBEDDED_VOICES
from inference.speech.espeak_tts import EspeakTts

from .conftest import words

JOE, KO_ROBOT = EMBEDDED_VOICES


def _loudness_at(pcm: bytes, rate: int, start_ms: int, end_ms: int) -> float:
    samples = pcm16_to_float(pcm)[start_ms * rate // 1000:end_ms * rate // 1000]
    return float(np.sqrt(np.mean(samples ** 2))) if samples.size else 0.0


def _check_timeline(result):
    events = result.visemes
    assert events, "no visemes"
    assert all(a.end_ms == b.start_ms for a, b in zip(events, events[1:], strict=False))
    assert events[-1].end_ms == round(result.duration * 1000) or abs(events[-1].end_ms - result.duration * 1000) < 30
    loudest = max(_loudness_at(result.pcm, result.sample_rate, e.start_ms, e.end_ms) for e in events)
    open_loud = [e for e in events if e.viseme != "silence" and e.weight >= 0.9 and e.end_ms - e.start_ms >= 40]
    silent = [e for e in events if e.viseme == "silence" and e.end_ms - e.start_ms >= 60]
    assert open_loud and silent
    # Wide-open mouth shapes sit on voiced audio; long silences on quiet audio.
    voiced = [_loudness_at(result.pcm, result.sample_rate, e.start_ms, e.end_ms) for e in open_loud]
    quiet = [_loudness_at(result.pcm, result.sample_rate, e.start_ms + 10, e.end_ms - 10) for e in silent]
    assert np.median(voiced) > 0.15 * loudest
    # Piper's pauses between words keep some breath and reverb: "silence" is clearly quieter
    # than speech, not digital zero (its noise varies from run to run).
    assert np.median(quiet) < 0.5 * np.median(voiced)


async def test_piper_speaks_english_that_whisper_understands(piper, stt):
    text = "Please call me tomorrow morning at the office."
    result = await piper.synthesize(text, voice=JOE)
    assert result.sample_rate == 22050 and 1.5 < result.duration < 6
    assert piper.aligned, "Piper runs without phoneme alignments"
    transcript = await stt.transcribe(result.pcm, sample_rate=result.sample_rate, language="en")
    assert words(transcript.text) == words(text)
    _check_timeline(result)
    assert {"oh", "aa"} <= {e.viseme for e in result.visemes}  # "call", "tomorrow"


async def test_piper_streams_sentence_by_sentence_and_speed_changes_length(piper):
    chunks = [c async for c in piper.stream("Hello there. How are you today?", voice=JOE)]
    assert len(chunks) == 2 and all(c.visemes for c in chunks)
    normal = await piper.synthesize("Good morning everyone.", voice=JOE)
    fast = await piper.synthesize("Good morning everyone.", voice=JOE, speed=1.6)
    assert fast.duration < normal.duration * 0.8


async def test_a_cancelled_piper_stream_frees_the_voice_for_the_next_request(piper):
    stream = piper.stream("One. Two. Three. Four. Five. Six. Seven. Eight.", voice=JOE)
    first = await anext(stream)
    assert first.pcm
    await stream.aclose()  # the listener barged in
    result = await asyncio.wait_for(piper.synthesize("Next please.", voice=JOE), timeout=120)
    assert 0.3 < result.duration < 3


async def test_espeak_speaks_korean_with_visemes_from_text_and_loudness(stt):
    text = "안녕하세요, 반갑습니다."
    result = await EspeakTts().synthesize(text, voice=KO_ROBOT, speed=0.75)
    assert result.sample_rate == 22050 and result.duration > 1
    _check_timeline(result)
    # As the voice pipeline will: the utterance with the VAD's half second of lead-in and tail.
    pad = bytes(result.sample_rate)
    transcript = await stt.transcribe(pad + result.pcm + pad, sample_rate=result.sample_rate, language="ko")
    assert "반갑습니다" in transcript.text


async def test_piper_is_never_imported_into_this_process(piper):
    import sys

    await piper.synthesize("Hi.", voice=JOE)
    assert piper._process is not None and piper._process.poll() is None  # a child process of its own
    assert not any(name == "piper" or name.startswith("piper.") for name in sys.modules)
