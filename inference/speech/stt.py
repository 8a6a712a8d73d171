"""Speech to text: one interface, an embedded faster-whisper engine and an OpenAI-compatible one.

Audio is in-memory PCM only (the user's voice is never written anywhere).
"""
from __future__ import annotations

import asyncio
import threading
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .audio import float_to_pcm16, pcm16_to_float, resample, wav_bytes
from .errors import EngineUnavailable
from .types import Transcript

WHISPER_RATE = 16000


def as_samples(audio: np.ndarray | bytes, sample_rate: int) -> np.ndarray:
    """float32 mono 16 kHz samples from int16 PCM bytes or a float array at any rate."""
    samples = pcm16_to_float(audio) if isinstance(audio, bytes | bytearray | memoryview) else np.asarray(audio, dtype=np.float32)
    return resample(samples, sample_rate, WHISPER_RATE)


class SpeechToText(ABC):
    name: str

    @abstractmethod
    async def transcribe(self, audio: np.ndarray | bytes, *, sample_rate: int = WHISPER_RATE, language: str | None = None) -> Transcript:
        """The words in `audio` (int16 PCM bytes or float32 samples); language None = detect."""

    @abstractmethod
    async def health(self) -> str:
        """A short description when the engine can work; raises when it cannot."""


class WhisperStt(SpeechToText):
    """faster-whisper on CTranslate2, on CPU: English tiny.en, everything else multilingual base.

    Decoding is greedy at temperature 0 with no timestamps and a token cap: the default
    temperature fallback once took 21 s on one clip and looped on another. Runs in a one-thread
    pool so the event loop never blocks and two transcriptions never fight for the 2 cores.
    """

    name = "faster-whisper"

    def __init__(self, *, english_model: Path, multilingual_model: Path, max_tokens: int = 96, threads: int = 2) -> None:
        self.english_model = english_model
        self.multilingual_model = multilingual_model
        self.max_tokens = max_tokens
        self.threads = threads
        self._models: dict[Path, object] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whisper")

    def _model(self, path: Path):
        with self._lock:
            if path not in self._models:
                if not (path / "model.bin").is_file():
                    raise EngineUnavailable(f"Whisper model missing at {path.name} (run make setup).")
                from faster_whisper import WhisperModel

                self._models[path] = WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=self.threads)
            return self._models[path]

    def model_for(self, language: str | None) -> Path:
        return self.english_model if language == "en" else self.multilingual_model

    def transcribe_sync(self, samples: np.ndarray, language: str | None) -> Transcript:
        model = self._model(self.model_for(language))
        segments, info = model.transcribe(
            samples,
            language=language,
            temperature=0.0,
            beam_size=1,
            without_timestamps=True,
            condition_on_previous_text=False,
            max_new_tokens=self.max_tokens,
            vad_filter=False,
            # Callers pass speech found by the VAD; Whisper's own no-speech guess dropped whole
            # clear utterances of synthetic Korean speech, so it is off.
            no_speech_threshold=None,
        )
        text = " ".join(segment.text.strip() for segment in segments).strip()
        return Transcript(text=text, language=info.language, audio_seconds=samples.size / WHISPER_RATE)

    async def transcribe(self, audio: np.ndarray | bytes, *, sample_rate: int = WHISPER_RATE, language: str | None = None) -> Transcript:
        samples = as_samples(audio, sample_rate)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self.transcribe_sync, samples, language)

    def warm(self, language: str | None) -> None:
        """Load the model and decode a second of quiet twice: the first decodes of a fresh model
        run ~1.5x slower (measured 450 -> 270 ms on one clip), and a user's first turn should not."""
        model = self._model(self.model_for(language))
        quiet = np.random.default_rng(0).normal(0, 0.003, WHISPER_RATE).astype(np.float32)
        for _ in range(2):
            segments, _info = model.transcribe(quiet, language=language, beam_size=1, without_timestamps=True,
                                               max_new_tokens=4, vad_filter=False)
            list(segments)

    async def health(self) -> str:
        missing = [p.name for p in (self.english_model, self.multilingual_model) if not (p / "model.bin").is_file()]
        if missing:
            raise EngineUnavailable(f"Whisper model(s) missing: {', '.join(missing)}")
        return "embedded faster-whisper (tiny.en, base)"


class OpenAiStt(SpeechToText):
    """An OpenAI-compatible /v1/audio/transcriptions server (vLLM serving Whisper, ...)."""

    name = "openai"

    def __init__(self, *, base_url: str, api_key: str, model: str, timeout: float = 30.0) -> None:
        from .clients import PerLoopOpenAi

        self.model = model
        self.clients = PerLoopOpenAi(base_url=base_url, api_key=api_key, timeout=timeout)

    async def transcribe(self, audio: np.ndarray | bytes, *, sample_rate: int = WHISPER_RATE, language: str | None = None) -> Transcript:
        import openai

        samples = as_samples(audio, sample_rate)
        body = wav_bytes(float_to_pcm16(samples), WHISPER_RATE)
        extra = {"language": language} if language else {}
        try:
            result = await self.clients.get().audio.transcriptions.create(
                model=self.model, file=("speech.wav", body, "audio/wav"), response_format="json", temperature=0.0, **extra,
            )
        except (openai.APIConnectionError, openai.APITimeoutError, openai.InternalServerError) as exc:
            raise EngineUnavailable(f"The speech-to-text server did not answer ({type(exc).__name__}).") from exc
        return Transcript(text=result.text.strip(), language=language or "", audio_seconds=samples.size / WHISPER_RATE)

    async def health(self) -> str:
        import openai

        try:
            await self.clients.get().models.list()
        except openai.APIError as exc:
            raise EngineUnavailable(f"speech-to-text server: {type(exc).__name__}") from exc
        return f"openai-compatible ({self.model})"
