"""aiortc audio: the character's voice as an outgoing track, the user's mic track into a session."""
from __future__ import annotations

import asyncio
import fractions
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from inference.speech.audio import resample

from .playout import FRAME_SAMPLES, RATE, Playout

EventCallback = Callable[[list[dict[str, Any]]], None]


class PlayoutTrack(MediaStreamTrack):
    """20 ms frames of 48 kHz mono s16 at the real-time rate: the reply's clauses, silence between."""

    kind = "audio"

    def __init__(self, playout: Playout, on_events: EventCallback) -> None:
        super().__init__()
        self.playout = playout
        self.on_events = on_events
        self._start: float | None = None
        self._pts = 0

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._pts += FRAME_SAMPLES
            wait = self._start + self._pts / RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        pcm, events = self.playout.read()
        if events:
            self.on_events(events)  # visemes/emotion go out just before the clause's first frame
        frame = AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
        frame.planes[0].update(pcm)
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, RATE)
        return frame


def frame_to_16k(frame: AudioFrame) -> np.ndarray:
    """A decoded WebRTC frame (usually 48 kHz stereo s16, packed) as float32 mono 16 kHz."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if frame.format.is_planar:
        samples = data.astype(np.float32).mean(axis=0)
    else:
        samples = data.reshape(-1, channels).astype(np.float32).mean(axis=1)
    if frame.format.name.startswith("s16"):
        samples = samples / 32768.0
    if frame.sample_rate == 48000 and samples.size % 3 == 0:
        # Average each 3 samples, then keep one: a cheap low-pass before decimating, so Opus's
        # high band does not alias into the speech band Whisper listens to.
        return samples.reshape(-1, 3).mean(axis=1).astype(np.float32)
    return resample(samples, frame.sample_rate, 16000)


def encode_events(events: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(e, ensure_ascii=False, separators=(",", ":")) for e in events]


def is_barge_in(data: Any) -> bool:
    """A page's `{"type": "barge_in"}` on the `voice` DataChannel (its own VAD heard the person
    talk over the character). Anything else, or anything oversized or malformed, is not."""
    if not isinstance(data, str) or len(data) > 4096:
        return False
    try:
        event = json.loads(data)
    except ValueError:
        return False
    return isinstance(event, dict) and event.get("type") == "barge_in"
