"""The character's face in a call: avatar parameter frames (rooms/protocol.py) from its voice.

The mouth follows the viseme timeline of the clause being played: each clause's visemes arrive
(from the voice session's playout) just before its first audio frame leaves, so the driver
anchors the timeline at that moment and reads the shape due at every frame it sends. The
expression follows the reply's emotion. Between replies the idle animation (blinks, slow head
motion, breathing) runs with a closed mouth.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rooms.protocol import BLENDSHAPE_NAMES, Frame, encode, idle_frame

_INDEX = {name: i for i, name in enumerate(BLENDSHAPE_NAMES)}

# Mouth shapes per viseme (inference/speech visemes), as ARKit blendshape weights at weight 1.
VISEME_SHAPES: dict[str, dict[str, float]] = {
    "aa": {"jawOpen": 0.7, "mouthLowerDownLeft": 0.35, "mouthLowerDownRight": 0.35},
    "oh": {"jawOpen": 0.5, "mouthFunnel": 0.55},
    "ou": {"jawOpen": 0.25, "mouthFunnel": 0.4, "mouthPucker": 0.65},
    "ih": {"jawOpen": 0.3, "mouthStretchLeft": 0.3, "mouthStretchRight": 0.3},
    "ee": {"jawOpen": 0.2, "mouthSmileLeft": 0.35, "mouthSmileRight": 0.35, "mouthStretchLeft": 0.4, "mouthStretchRight": 0.4},
    "silence": {},
}
MOUTH_KEYS = tuple(sorted({key for shape in VISEME_SHAPES.values() for key in shape}))

# Expressions per reply emotion (chat/emotions.py), held while the reply lasts and a moment after.
EMOTION_SHAPES: dict[str, dict[str, float]] = {
    "happy": {"mouthSmileLeft": 0.6, "mouthSmileRight": 0.6, "cheekSquintLeft": 0.3, "cheekSquintRight": 0.3},
    "excited": {"mouthSmileLeft": 0.5, "mouthSmileRight": 0.5, "eyeWideLeft": 0.4, "eyeWideRight": 0.4, "browInnerUp": 0.4},
    "sad": {"mouthFrownLeft": 0.5, "mouthFrownRight": 0.5, "browInnerUp": 0.6},
    "angry": {"browDownLeft": 0.7, "browDownRight": 0.7, "noseSneerLeft": 0.3, "noseSneerRight": 0.3},
    "surprised": {"browInnerUp": 0.7, "browOuterUpLeft": 0.5, "browOuterUpRight": 0.5, "eyeWideLeft": 0.6, "eyeWideRight": 0.6},
    "neutral": {},
}
EMOTION_HOLD_S = 2.0  # the expression fades this long after the reply's audio ends
MOUTH_ATTACK = 0.6  # per frame, toward a more open shape (fast: onsets must not lag the audio)
MOUTH_RELEASE = 0.35  # per frame, toward a more closed one


@dataclass
class _Span:
    start: float  # monotonic seconds
    end: float
    viseme: str
    weight: float


class FaceDriver:
    def __init__(self) -> None:
        self.started = time.monotonic()
        self.spans: list[_Span] = []
        self.emotion = "neutral"
        self.emotion_until = 0.0
        self.mouth = dict.fromkeys(MOUTH_KEYS, 0.0)
        self.seq = 0

    # --- what the voice session tells us ---------------------------------------------------------
    def on_event(self, event: dict[str, Any], *, at: float | None = None) -> None:
        at = time.monotonic() if at is None else at
        kind = event.get("type")
        if kind == "visemes":
            self._clause(event, at)
        elif kind in ("emotion", "bot_speaking") and isinstance(event.get("emotion"), str):
            self.emotion = event["emotion"] if event["emotion"] in EMOTION_SHAPES else "neutral"
            self.emotion_until = max(self.emotion_until, at + EMOTION_HOLD_S)
        elif kind == "interrupt":
            self.spans.clear()  # the audio was flushed: close the mouth now

    def _clause(self, event: dict[str, Any], at: float) -> None:
        """A clause starts playing now: its visemes are relative to this moment."""
        self.spans = [s for s in self.spans if s.end > at]
        for item in event.get("visemes") or []:
            try:
                start, end = at + float(item["start_ms"]) / 1000, at + float(item["end_ms"]) / 1000
                viseme, weight = str(item["viseme"]), float(item.get("weight", 1.0))
            except (KeyError, TypeError, ValueError):
                continue
            if end > start and viseme in VISEME_SHAPES:
                self.spans.append(_Span(start, end, viseme, max(0.0, min(1.0, weight))))
        duration = float(event.get("duration_ms") or 0) / 1000
        self.emotion_until = max(self.emotion_until, at + duration + EMOTION_HOLD_S)

    # --- what we send --------------------------------------------------------------------------
    def speaking(self, now: float) -> bool:
        return any(s.start <= now < s.end for s in self.spans)

    def frame(self, now: float | None = None) -> Frame:
        now = time.monotonic() if now is None else now
        self.spans = [s for s in self.spans if s.end > now - 1.0]
        base = idle_frame(self.seq, now - self.started, timestamp_ms=int(time.time() * 1000))
        self.seq = (self.seq + 1) % 65536
        scores = list(base.blendshapes)
        target = dict.fromkeys(MOUTH_KEYS, 0.0)
        span = next((s for s in self.spans if s.start <= now < s.end), None)
        if span is not None:
            for key, value in VISEME_SHAPES[span.viseme].items():
                target[key] = value * span.weight
        for key, value in target.items():
            rate = MOUTH_ATTACK if value > self.mouth[key] else MOUTH_RELEASE
            self.mouth[key] += (value - self.mouth[key]) * rate
        expression = EMOTION_SHAPES.get(self.emotion, {}) if now < self.emotion_until else {}
        for key, value in expression.items():
            scores[_INDEX[key]] = max(scores[_INDEX[key]], value)
        for key, value in self.mouth.items():
            # While talking the voice drives the mouth; at rest the idle breathing (a few %) shows.
            scores[_INDEX[key]] = max(value, scores[_INDEX[key]])
        return Frame(seq=base.seq, timestamp_ms=base.timestamp_ms, rotation=base.rotation, position=base.position,
                     blendshapes=tuple(scores), speaking=span is not None and span.viseme != "silence")

    def next(self) -> bytes:
        """rooms.peer's frame source interface: the next encoded frame."""
        return encode(self.frame())
