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


def test_feeding_20_ms_frames_gives_the_same_decisions_as_32_ms_chunks():
    speech = speak("Hello, can you hear me?", "en", pad_s=0.6)
    whole = SileroVad()
    expected = [whole.probability(speech[i:i + CHUNK_SAMPLES]) for i in range(0, speech.size - CHUNK_SAMPLES + 1, CHUNK_SAMPLES)]
    streamed = SileroVad()
    got: list[float] = []
    for i in range(0, speech.size, 320):  # 20 ms frames
        got.extend(streamed.feed(speech[i:i + 320]))
    assert np.allclose(got, expected, atol=1e-5)
    assert max(got) > 0.8 and min(got) < 0.2  # speech and silence both present
