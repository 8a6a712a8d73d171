"""What a live turn produces, and the interface the runner asks for it.

The runner does not know how a reply is made: it hands the batch text and the live context to a
`Responder`, which yields the reply clause by clause (text, emotion, speech audio and visemes), so
the overlay can start speaking the first clause while later ones are still being generated.
"""
from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Clause:
    text: str
    emotion: str = "neutral"
    audio_wav: bytes = b""  # one complete WAV per clause; empty when the voice is off
    duration_s: float = 0.0
    visemes: list[dict[str, Any]] = field(default_factory=list)  # [{"t": s, "v": "aa", "w": 0..1}, ...]


@dataclass
class LiveTurn:
    session_id: str
    owner_id: int
    character_id: str
    conversation_id: str | None
    prompt: str  # the viewers' messages as one user turn (live.selection.describe_batch)
    context: str = ""  # recent chat and what the character remembers of these viewers


class Responder(abc.ABC):
    @abc.abstractmethod
    def reply(self, turn: LiveTurn) -> AsyncIterator[Clause]:
        """Yield the reply's clauses. Cancelling the iteration must stop generation upstream."""

    @abc.abstractmethod
    def say(self, turn: LiveTurn) -> AsyncIterator[Clause]:
        """Speak `turn.prompt` verbatim in the character's voice (the dashboard's "say this")."""
