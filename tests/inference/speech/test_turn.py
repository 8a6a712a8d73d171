"""Smart Turn v3 on Piper speech: a finished sentence ends the turn, a broken-off one does not."""
import numpy as np
import pytest

from inference.speech.audio import pcm16_to_float, resample
from inference.speech.config import EMBEDDED_VOICES
from inference.speech.turn import COMPLETE_AT, WINDOW_SAMPLES, SmartTurn

JOE = EMBEDDED_VOICES[0]


@pytest.fixture(scope="module")
def detector() -> SmartTurn:
    found = SmartTurn.shared()
    assert found is not None, "var/models/smart-turn is installed by scripts/setup.d/40-speech-models.sh"
    return found


async def spoken(piper, text: str) -> np.ndarray:
    """16 kHz speech ending with the 256 ms pause after which the session asks the detector."""
    result = await piper.synthesize(text, voice=JOE)
    samples = resample(pcm16_to_float(result.pcm), result.sample_rate, 16000)
    voiced = np.nonzero(np.abs(samples) > 0.01)[0]
    return np.concatenate([samples[: voiced[-1] + 1], np.zeros(4096, dtype=np.float32)])


@pytest.mark.parametrize("text", ["Thank you very much for your help.", "Where is the nearest train station?"])
async def test_a_finished_sentence_is_a_finished_turn(piper, detector, text):
    assert detector.probability(await spoken(piper, text)) > COMPLETE_AT


# Piper's speech varies from run to run; these were judged the same way in six runs each (the
# model is less sure of some others, e.g. "I would like to order a": 0.12-0.88).
@pytest.mark.parametrize("text", ["and then we went to the", "So I was thinking that maybe we could"])
async def test_a_sentence_broken_off_is_not(piper, detector, text):
    assert detector.probability(await spoken(piper, text)) < COMPLETE_AT


def test_features_cover_the_last_eight_seconds_left_padded(detector):
    rng = np.random.default_rng(1)
    short = (0.1 * rng.standard_normal(16000)).astype(np.float32)  # 1 s of noise
    long = np.concatenate([rng.standard_normal(WINDOW_SAMPLES).astype(np.float32), short])
    assert detector.features(short).shape == (1, 80, 800)
    # Only the last 8 s count: a long utterance is judged on its end.
    np.testing.assert_allclose(detector.features(long), detector.features(long[-WINDOW_SAMPLES:]))
    # A short one is padded with silence before it, so its own frames sit at the end.
    frames = detector.features(short)[0]  # 100 frames per second
    assert np.ptp(frames[:, :690], axis=1).max() < 1e-5  # 6.9 s of padding: the same in every frame
    assert frames[:, -90:].mean() > frames[:, :690].mean() + 1  # the noise, far above it


def test_no_model_file_means_no_detector(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(SmartTurn, "_instance", None)
    settings.SPEECH_MODELS_DIR = tmp_path
    assert SmartTurn.shared() is None
