"""End of turn: has the user finished, or only paused? Smart Turn v3 on onnxruntime.

A short VAD pause alone cuts people off mid-sentence ("I want to... order a pizza") or, with a long
pause, makes every answer late. Smart Turn v3 (pipecat-ai's model, BSD-2-Clause; 23 languages
including Korean) looks at the last 8 s of the user's audio and says whether the turn sounds
complete. The session asks it after a short pause and waits for a longer one when it says "not yet".

The ONNX file ships inside the `pipecat-ai` wheel; scripts/setup.d/40-speech-models.sh extracts
it into var/models/smart-turn/ (we do not install or import pipecat itself). Without the file the
detector reports itself unavailable and sessions fall back to the pause alone.

Input: 16 kHz mono, the last 8 s (left-padded with silence), normalised to zero mean and unit
variance, as Whisper log-mel features (80 bins x 800 frames). faster-whisper's feature extractor
computes exactly Whisper's features, so we reuse it instead of another copy of the mel maths.
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from django.conf import settings

SAMPLE_RATE = 16000
WINDOW_S = 8
WINDOW_SAMPLES = SAMPLE_RATE * WINDOW_S
MODEL_FILE = "smart-turn-v3.2-cpu.onnx"
COMPLETE_AT = 0.5  # the model's own decision threshold


def model_path() -> Path:
    return Path(settings.SPEECH_MODELS_DIR) / "smart-turn" / MODEL_FILE


class SmartTurn:
    """One per process: the ONNX session is thread-safe and holds no per-stream state."""

    _instance: SmartTurn | None = None
    _lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        import onnxruntime
        from faster_whisper.feature_extractor import FeatureExtractor

        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1  # one core: STT and TTS need the other
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = onnxruntime.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
        self._features = FeatureExtractor(feature_size=80, sampling_rate=SAMPLE_RATE, hop_length=160,
                                          chunk_length=WINDOW_S, n_fft=400)

    @classmethod
    def shared(cls) -> SmartTurn | None:
        """The process's detector, or None when the model file is not installed."""
        with cls._lock:
            if cls._instance is None:
                path = model_path()
                if not path.is_file():
                    return None
                cls._instance = cls(path)
            return cls._instance

    def features(self, audio: np.ndarray) -> np.ndarray:
        """(1, 80, 800) float32 features of the last WINDOW_S seconds of 16 kHz `audio`."""
        x = np.asarray(audio, dtype=np.float32)[-WINDOW_SAMPLES:]
        if x.size < WINDOW_SAMPLES:
            x = np.pad(x, (WINDOW_SAMPLES - x.size, 0))  # silence before the turn, as the model was trained
        x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
        return self._features(x, padding=0)[np.newaxis].astype(np.float32)

    def probability(self, audio: np.ndarray) -> float:
        """How sure the model is that the user has finished their turn (0..1). CPU-bound: call it
        off the event loop."""
        (out,) = self._session.run(None, {"input_features": self.features(audio)})
        return float(np.asarray(out).reshape(-1)[0])

    def is_complete(self, audio: np.ndarray) -> bool:
        return self.probability(audio) > COMPLETE_AT
