"""Speech test helpers: WAVs made with espeak-ng, the embedded engines shared per test process."""
from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

from inference.speech.audio import read_wav, resample


def speak(text: str, language: str, *, speed: int = 130, pad_s: float = 0.5) -> np.ndarray:
    """16 kHz float samples of `text` spoken by espeak-ng, with silence before and after."""
    wav = subprocess.run(["espeak-ng", "-v", language, "-s", str(speed), "--stdout"], input=text.encode(), capture_output=True, check=True).stdout
    samples, rate = read_wav(wav)
    pad = np.zeros(int(16000 * pad_s), dtype=np.float32)
    return np.concatenate([pad, resample(samples, rate, 16000) * 0.8, pad])


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9가-힣']+", text.lower())


@pytest.fixture(scope="session")
def stt():
    """The embedded Whisper engine (models load once per test process)."""
    from inference.speech import config
    from inference.speech.stt import WhisperStt

    return WhisperStt(english_model=config.english_whisper_path(), multilingual_model=config.multilingual_whisper_path())


@pytest.fixture(scope="session")
def piper():
    from inference.speech import config
    from inference.speech.piper_tts import PiperTts

    engine = PiperTts(model=config.piper_voice_path())
    yield engine
    engine.close()
