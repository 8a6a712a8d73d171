import numpy as np

from inference.speech.vad import CHUNK_SAMPLES, SileroVad

from .conftest import speak


def test_vad_finds_the_speech_and_not_the_silence():
    speech = speak("The weather is lovely today.", "en", pad_s=1.0)
    vad = SileroVad()
    segments = vad.speech_segments(speech)
    assert segments, "no speech found"
    start, end = segments[0][0], segments[-1][1]
    loud = np.flatnonzero(np.abs(speech) > 0.02)  # where espeak-ng's waveform really is
    first, last = loud[0] / 16000, loud[-1] / 16000
    assert first - 0.1 <= start <= first + 0.3
    assert last - 0.3 <= end <= last + 0.3


def test_silence_and_noise_are_not_speech():
    vad = SileroVad()
    rng = np.random.default_rng(1)
    quiet_noise = (rng.standard_normal(16000 * 2) * 0.003).astype(np.float32)
    assert vad.speech_segments(np.zeros(16000 * 2, np.float32)) == []
    assert vad.speech_segments(quiet_noise) == []


def test_chunks_must_be_32_ms():
    vad = SileroVad()
    try:
        vad.probability(np.zeros(CHUNK_SAMPLES * 2, np.float32))
    except ValueError as exc:
        assert "512" in str(exc)
    else:
        raise AssertionError("a 64 ms chunk was accepted")
