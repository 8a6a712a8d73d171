"""The character's face in a call: avatar parameter frames (rooms/protocol.py) from its voice.

The mouth follows the viseme timeline of the clause being played, at the point its audio has
been read out to (the voice session's playout is the clock). The expression follows the reply's
emotion. Between replies the idle animation (blinks, slow head
motion, breathing) runs with a closed mouth.
"""
from __future__ import annotations

import time
from typing import Any

from chat.voice.playout import RATE, Playout
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
EMOTION_HOLD_S = 2.0  # the expression stays this long after the voice stopped
MOUTH_ATTACK = 0.6  # per frame, toward a more open shape (fast: onsets must not lag the audio)
MOUTH_RELEASE = 0.35  # per frame, toward a more closed one


class FaceDriver:
    """Frames for the character's avatar, read from its voice's playout (chat/voice/playout.py).

    The mouth follows the audio clock, not the wall clock: at each frame it takes the clause being
    read out and how much of it was read, and shows the viseme due at that point of the clause's
    timeline. The outgoing audio track reads at real time, but after the event loop stalled
    (STT or TTS busy on a loaded machine) it catches up with a burst; a timeline anchored to
    the wall clock would then keep the mouth moving after the voice ended."""

    def __init__(self, playout: Playout) -> None:
        self.playout = playout
        self.started = time.monotonic()
        self.emotion = "neutral"
        self.last_played = 0.0  # monotonic time the playout last had audio
        self.mouth = dict.fromkeys(MOUTH_KEYS, 0.0)
        self.seq = 0

    # --- what the voice session tells us ---------------------------------------------------------
    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind in ("emotion", "bot_speaking") and isinstance(event.get("emotion"), str):
            self.emotion = event["emotion"] if event["emotion"] in EMOTION_SHAPES else "neutral"
            self.last_played = time.monotonic()

    def current_viseme(self) -> tuple[str, float] | None:
        """(viseme, weight) at the read position of the clause being played, or None (silence)."""
        queue = self.playout.queue
        if not queue or not queue[0].started:
            return None
        clause = queue[0]
        position_ms = clause.played / 2 / RATE * 1000  # bytes of 48 kHz mono int16
        for event in clause.events:
            if event.get("type") != "visemes":
                continue
            for item in event.get("visemes") or []:
                try:
                    if float(item["start_ms"]) <= position_ms < float(item["end_ms"]):
                        viseme = str(item["viseme"])
                        weight = max(0.0, min(1.0, float(item.get("weight", 1.0))))
                        return (viseme, weight) if viseme in VISEME_SHAPES else None
                except (KeyError, TypeError, ValueError):
                    continue
        return None

    # --- what we send --------------------------------------------------------------------------
    def frame(self, now: float | None = None) -> Frame:
        now = time.monotonic() if now is None else now
        base = idle_frame(self.seq, now - self.started, timestamp_ms=int(time.time() * 1000))
        self.seq = (self.seq + 1) % 65536
        scores = list(base.blendshapes)
        if self.playout.playing:
            self.last_played = now
        target = dict.fromkeys(MOUTH_KEYS, 0.0)
        current = self.current_viseme()
        if current is not None:
            viseme, weight = current
            for key, value in VISEME_SHAPES[viseme].items():
                target[key] = value * weight
        for key, value in target.items():
            rate = MOUTH_ATTACK if value > self.mouth[key] else MOUTH_RELEASE
            self.mouth[key] += (value - self.mouth[key]) * rate
        expression = EMOTION_SHAPES.get(self.emotion, {}) if now - self.last_played < EMOTION_HOLD_S else {}
        for key, value in expression.items():
            scores[_INDEX[key]] = max(scores[_INDEX[key]], value)
        for key, value in self.mouth.items():
            # While talking the voice drives the mouth; at rest the idle breathing (a few %) shows.
            scores[_INDEX[key]] = max(value, scores[_INDEX[key]])
        return Frame(seq=base.seq, timestamp_ms=base.timestamp_ms, rotation=base.rotation, position=base.position,
                     blendshapes=tuple(scores), speaking=current is not None and current[0] != "silence")

    def next(self) -> bytes:
        """rooms.peer's frame source interface: the next encoded frame."""
        return encode(self.frame())
