"""Speech engines on a switching GPU host: each synthesis / transcription holds the host's mode
(SPEECH_TTS_GPU_MODE / SPEECH_STT_GPU_MODE) while it runs, so the GPU is in the mode the engine
needs and no switch takes it away mid-utterance (inference/gpu/hold.py)."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import numpy as np

from inference.gpu.hold import hold_mode

from .stt import WHISPER_RATE, SpeechToText
from .tts import TextToSpeech
from .types import SpeechChunk, Transcript, Voice


class ModeHeldTts(TextToSpeech):
    def __init__(self, engine: TextToSpeech, mode: str) -> None:
        self.engine, self.mode, self.name = engine, mode, engine.name

    @property
    def identity(self) -> str:
        return self.engine.identity

    async def stream(self, text: str, *, voice: Voice, speed: float = 1.0) -> AsyncIterator[SpeechChunk]:
        async with hold_mode(self.mode):
            async with contextlib.aclosing(self.engine.stream(text, voice=voice, speed=speed)) as chunks:
                async for chunk in chunks:
                    yield chunk

    async def health(self) -> str:
        return await self.engine.health()


class ModeHeldStt(SpeechToText):
    def __init__(self, engine: SpeechToText, mode: str) -> None:
        self.engine, self.mode, self.name = engine, mode, engine.name

    async def transcribe(self, audio: np.ndarray | bytes, *, sample_rate: int = WHISPER_RATE,
                         language: str | None = None) -> Transcript:
        async with hold_mode(self.mode):
            return await self.engine.transcribe(audio, sample_rate=sample_rate, language=language)

    async def health(self) -> str:
        return await self.engine.health()
