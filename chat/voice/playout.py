"""The character's outgoing audio: clauses of PCM (48 kHz mono int16) read out 20 ms at a time.

Each clause carries its text and the events (emotion, visemes) to send just before its first
sample. Reading tracks how much of each clause really left, so a barge-in can tell what was
heard: the clauses played to the end plus the played fraction of the current one, by words.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inference.speech.audio import pcm16_to_float, resample

RATE = 48000
FRAME_SAMPLES = RATE // 50  # 20 ms
FRAME_BYTES = FRAME_SAMPLES * 2
SILENCE = bytes(FRAME_BYTES)


@dataclass
class Clause:
    text: str
    pcm: bytes  # 48 kHz mono int16
    events: list[dict[str, Any]] = field(default_factory=list)
    played: int = 0  # bytes already read out
    started: bool = False

    @property
    def done(self) -> bool:
        return self.played >= len(self.pcm)


def to_output_pcm(pcm: bytes, sample_rate: int) -> bytes:
    """Engine PCM (any rate) as 48 kHz mono int16 for the outgoing track."""
    if sample_rate == RATE:
        return pcm
    samples = resample(pcm16_to_float(pcm), sample_rate, RATE)
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


class Playout:
    def __init__(self) -> None:
        self.queue: deque[Clause] = deque()
        self.heard: list[str] = []  # texts of the clauses of the current reply played to the end
        self.partial = ""  # the words of an interrupted clause that were played
        self.level = 0.0  # RMS of the last 100 ms read out (the echo guard compares the mic with it)
        self._levels: deque[float] = deque(maxlen=5)

    def push(self, clause: Clause) -> None:
        self.queue.append(clause)

    @property
    def playing(self) -> bool:
        return bool(self.queue)

    def new_reply(self) -> None:
        self.heard, self.partial = [], ""

    def read(self) -> tuple[bytes, list[dict[str, Any]]]:
        """The next 20 ms (silence when idle) and the events due before it."""
        events: list[dict[str, Any]] = []
        out = bytearray()
        while len(out) < FRAME_BYTES and self.queue:
            clause = self.queue[0]
            if not clause.started:
                clause.started = True
                events.extend(clause.events)
            take = min(FRAME_BYTES - len(out), len(clause.pcm) - clause.played)
            out += clause.pcm[clause.played:clause.played + take]
            clause.played += take
            if clause.done:
                self.heard.append(clause.text)
                self.queue.popleft()
        if len(out) < FRAME_BYTES:
            out += bytes(FRAME_BYTES - len(out))
        frame = bytes(out)
        samples = np.frombuffer(frame, dtype="<i2").astype(np.float32) / 32768.0
        self._levels.append(float(np.sqrt(np.mean(samples * samples))))
        self.level = sum(self._levels) / len(self._levels)
        return frame, events

    def flush(self) -> str:
        """Drop everything queued (barge-in); return the text that was heard."""
        if self.queue and self.queue[0].started:
            clause = self.queue[0]
            words = clause.text.split()
            count = math.floor(len(words) * clause.played / max(1, len(clause.pcm)))
            self.partial = " ".join(words[:count])
        self.queue.clear()
        self._levels.clear()
        self.level = 0.0
        return self.heard_text()

    def heard_text(self) -> str:
        return " ".join([*self.heard, self.partial]).strip()
