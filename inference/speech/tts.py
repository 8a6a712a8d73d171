"""Text to speech: one interface for every engine.

`stream()` yields SpeechChunks (PCM + viseme timeline) as the engine produces them, so a voice
pipeline can play the first clause while the rest is synthesized; closing the iterator (or
cancelling the task that drives it) stops the work. `synthesize()` joins a whole utterance.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator

from . import visemes
from .types import SpeechChunk, Synthesis, VisemeEvent, Voice


class TextToSpeech(ABC):
    name: str  # "piper", "espeak-ng", "openai", "gpt-sovits"

    @property
    def identity(self) -> str:
        """What the cache key needs to tell two engines' outputs apart (engine + model)."""
        return self.name

    @abstractmethod
    def stream(self, text: str, *, voice: Voice, speed: float = 1.0) -> AsyncIterator[SpeechChunk]:
        """Synthesize `text`, yielding audio as it is produced."""

    @abstractmethod
    async def health(self) -> str:
        """A short description when the engine can work; raises EngineUnavailable when it cannot."""

    async def synthesize(self, text: str, *, voice: Voice, speed: float = 1.0) -> Synthesis:
        parts: list[bytes] = []
        events: list[VisemeEvent] = []
        rate, offset_ms = 0, 0
        async for chunk in self.stream(text, voice=voice, speed=speed):
            if rate and chunk.sample_rate != rate:
                raise ValueError("engine changed sample rate mid-utterance")
            rate = chunk.sample_rate
            parts.append(chunk.pcm)
            events.extend(event.shifted(offset_ms) for event in chunk.visemes)
            offset_ms += chunk.duration_ms
        return Synthesis(pcm=b"".join(parts), sample_rate=rate or 22050, visemes=visemes.merge(events))


class EnvelopeVisemes:
    """Visemes for engines without phoneme timings, carried across the chunks of one utterance."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.vowel_offset = 0
        self._vowels = max(1, len(visemes.text_vowels(text)))

    def chunk(self, pcm: bytes, sample_rate: int) -> SpeechChunk:
        events = visemes.from_envelope(pcm, sample_rate, text=self.text, vowel_offset=self.vowel_offset)
        # Move on through the text's vowels roughly one per voiced syllable of this chunk.
        self.vowel_offset += sum(1 for e in events if e.viseme != "silence")
        self.vowel_offset %= self._vowels
        return SpeechChunk(pcm=pcm, sample_rate=sample_rate, visemes=events)


def even_bytes(buffer: bytearray) -> bytes:
    """Take the whole 16-bit samples out of `buffer` (network chunks may split a sample)."""
    usable = len(buffer) - len(buffer) % 2
    out = bytes(buffer[:usable])
    del buffer[:usable]
    return out
