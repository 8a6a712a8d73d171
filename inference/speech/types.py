"""Shapes shared by every speech engine: audio chunks with their viseme timeline, transcripts, voices."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The mouth shapes every renderer understands (VRM 1.0 names; the 2D renderer maps them too).
VISEMES = ("aa", "ih", "ou", "ee", "oh", "silence")


@dataclass(frozen=True)
class VisemeEvent:
    """One mouth shape held from start_ms to end_ms (relative to the start of its audio chunk)."""

    start_ms: int
    end_ms: int
    viseme: str
    weight: float  # 0..1 how wide the shape opens; 0 for silence

    def as_dict(self) -> dict[str, Any]:
        return {"start_ms": self.start_ms, "end_ms": self.end_ms, "viseme": self.viseme, "weight": round(self.weight, 3)}

    def shifted(self, offset_ms: int) -> VisemeEvent:
        return VisemeEvent(self.start_ms + offset_ms, self.end_ms + offset_ms, self.viseme, self.weight)


@dataclass(frozen=True)
class SpeechChunk:
    """A piece of synthesized speech: 16-bit little-endian mono PCM and the visemes that go with it."""

    pcm: bytes
    sample_rate: int
    visemes: tuple[VisemeEvent, ...] = ()

    @property
    def duration_ms(self) -> int:
        return round(len(self.pcm) / 2 * 1000 / self.sample_rate)


@dataclass(frozen=True)
class Synthesis:
    """A whole utterance: the chunks joined, visemes on one timeline."""

    pcm: bytes
    sample_rate: int
    visemes: tuple[VisemeEvent, ...]

    @property
    def duration(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str
    audio_seconds: float


@dataclass(frozen=True)
class Voice:
    """A voice the TTS API offers. `options` holds engine-specific settings (a cloning engine's reference clip)."""

    id: str
    name: str
    language: str
    gender: str
    engine: str
    engine_voice: str = ""  # the engine's own name for it (OpenAI "alloy", espeak "ko", ...)
    options: dict[str, str] = field(default_factory=dict)
    robotic: bool = False  # labelled honestly in the UI

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "language": self.language, "gender": self.gender, "engine": self.engine}
