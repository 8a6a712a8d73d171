"""Voice activity: Silero VAD's ONNX file (from the `silero-vad` wheel) on onnxruntime, no torch.

Feed 32 ms chunks (512 samples at 16 kHz); the model keeps a recurrent state between chunks,
so one SileroVad belongs to one audio stream (one session). About 0.3 ms per chunk.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
CHUNK_SAMPLES = 512  # 32 ms
_CONTEXT = 64  # the model sees the last 64 samples of the previous chunk too


def model_path() -> Path:
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The silero-vad package is not installed (scripts/setup.d/40-speech-models.sh).")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "silero_vad.onnx"


_session = None


def _shared_session():
    """One InferenceSession per process (sessions are thread-safe; the state lives in SileroVad)."""
    global _session
    if _session is None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        _session = onnxruntime.InferenceSession(str(model_path()), sess_options=options, providers=["CPUExecutionProvider"])
    return _session


class SileroVad:
    def __init__(self, *, threshold: float = 0.5) -> None:
        self.threshold = threshold
        self._session = _shared_session()
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros((1, _CONTEXT), dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def feed(self, samples: np.ndarray) -> list[float]:
        """Frames of any size (a WebRTC track gives 20 ms): the probability of each 32 ms chunk completed."""
        self._pending = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        count = self._pending.size // CHUNK_SAMPLES
        probabilities = [self.probability(self._pending[i * CHUNK_SAMPLES:(i + 1) * CHUNK_SAMPLES]) for i in range(count)]
        self._pending = self._pending[count * CHUNK_SAMPLES:]
        return probabilities

    def probability(self, chunk: np.ndarray) -> float:
        """Speech probability of one 512-sample float32 chunk in [-1, 1] at 16 kHz."""
        if chunk.shape != (CHUNK_SAMPLES,):
            raise ValueError(f"VAD chunks are {CHUNK_SAMPLES} samples at 16 kHz (got {chunk.shape})")
        x = np.concatenate([self._context, chunk.astype(np.float32).reshape(1, -1)], axis=1)
        out, self._state = self._session.run(None, {"input": x, "state": self._state, "sr": np.array(SAMPLE_RATE, dtype=np.int64)})
        self._context = x[:, -_CONTEXT:]
        return float(out[0][0])

    def is_speech(self, chunk: np.ndarray) -> bool:
        return self.probability(chunk) >= self.threshold

    def speech_segments(self, samples: np.ndarray, *, min_silence_ms: int = 200) -> list[tuple[float, float]]:
        """(start_s, end_s) of the voiced parts of a whole 16 kHz recording (resets the state first)."""
        self.reset()
        segments: list[tuple[float, float]] = []
        start: int | None = None
        silent = 0
        gap = max(1, min_silence_ms * SAMPLE_RATE // 1000 // CHUNK_SAMPLES)
        count = samples.size // CHUNK_SAMPLES
        for i in range(count):
            voiced = self.is_speech(samples[i * CHUNK_SAMPLES:(i + 1) * CHUNK_SAMPLES])
            if voiced:
                if start is None:
                    start = i
                silent = 0
            elif start is not None:
                silent += 1
                if silent >= gap:
                    segments.append((start * CHUNK_SAMPLES / SAMPLE_RATE, (i - silent + 1) * CHUNK_SAMPLES / SAMPLE_RATE))
                    start, silent = None, 0
        if start is not None:
            segments.append((start * CHUNK_SAMPLES / SAMPLE_RATE, (count - silent) * CHUNK_SAMPLES / SAMPLE_RATE))
        return segments
