"""A scripted voice client (aiortc): speaks recorded PCM into its microphone track, receives the
character's voice and the DataChannel events. It speaks docs/voice-protocol.md exactly as the
browser does; tests and `python -m bench.voice` drive it. `send_json`/`receive_json` are the
signaling socket's (a channels WebsocketCommunicator, or a websockets connection wrapped).
With `browser_vad=True` it also does what the chat page does with its own Silero VAD
(frontend/src/chat/barge_detector.js, same rule and constants): `barge_in` on the DataChannel
as soon as its user talks over the character.
"""
from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from inference.speech.audio import resample

RATE = 48000
FRAME = RATE // 50
VOICED_LEVEL = 0.01  # RMS above which a received frame counts as the character's voice
# The page's barge-in rule (frontend/src/chat/barge_detector.js, the same constants): 2 of the last
# 3 VAD chunks at Silero >= 0.5 and at least 0.25 x as loud as the character's voice of the last 100 ms.
BARGE_THRESHOLD, BARGE_SPEECH_CHUNKS, BARGE_WINDOW_CHUNKS, BARGE_ECHO_RATIO, OUTPUT_LEVEL_WINDOW_S = 0.5, 2, 3, 0.25, 0.1


def _rms(pcm: np.ndarray) -> float:
    return float(np.sqrt(np.mean((pcm.astype(np.float32) / 32768) ** 2))) if pcm.size else 0.0


class BrowserBargeIn:
    """The chat page's VAD barge-in, fed with what the mic sends (16 kHz floats)."""

    def __init__(self, output_level: Callable[[], float], speaking: Callable[[], bool], fire: Callable[[], None]) -> None:
        from inference.speech.vad import CHUNK_SAMPLES, SileroVad

        self.vad, self.chunk = SileroVad(), CHUNK_SAMPLES
        self.output_level, self.speaking, self.fire = output_level, speaking, fire
        self.pending = np.zeros(0, dtype=np.float32)
        self.recent: list[bool] = []
        self.fired = False

    def feed(self, samples_16k: np.ndarray) -> None:
        self.pending = np.concatenate([self.pending, samples_16k])
        for probability in self.vad.feed(samples_16k):
            chunk, self.pending = self.pending[:self.chunk], self.pending[self.chunk:]
            if not self.speaking():
                self.recent, self.fired = [], False
                continue
            level = float(np.sqrt(np.mean(chunk * chunk)))
            self.recent = [*self.recent, probability >= BARGE_THRESHOLD and level >= BARGE_ECHO_RATIO * self.output_level()][-BARGE_WINDOW_CHUNKS:]
            if not self.fired and sum(self.recent) >= BARGE_SPEECH_CHUNKS:
                self.fired = True
                self.fire()


class MicTrack(MediaStreamTrack):
    """Real-time 20 ms frames: queued speech, silence otherwise. `say()` queues 16 kHz samples."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.buffer = np.zeros(0, dtype=np.int16)
        self.start: float | None = None
        self.pts = 0
        self.last_voiced_at: float | None = None  # when the last frame with speech was sent
        self.first_voiced_at: float | None = None
        self.spoken = asyncio.Event()
        self.on_sent: Callable[[np.ndarray], None] | None = None  # 16 kHz floats of each frame sent

    def say(self, samples_16k: np.ndarray) -> None:
        pcm = (np.clip(resample(samples_16k, 16000, RATE), -1, 1) * 32767).astype(np.int16)
        self.buffer = np.concatenate([self.buffer, pcm])
        self.first_voiced_at = None
        self.spoken.clear()

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self.start is None:
            self.start = time.monotonic()
        else:
            self.pts += FRAME
            wait = self.start + self.pts / RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        chunk = self.buffer[:FRAME]
        self.buffer = self.buffer[FRAME:]
        if chunk.size:
            if _rms(chunk) > VOICED_LEVEL:
                now = time.monotonic()
                self.last_voiced_at = now
                if self.first_voiced_at is None:
                    self.first_voiced_at = now
            if not self.buffer.size:
                self.spoken.set()
        pcm = np.zeros(FRAME, dtype=np.int16)
        pcm[:chunk.size] = chunk
        if self.on_sent is not None:
            self.on_sent(resample(pcm.astype(np.float32) / 32768, RATE, 16000))
        frame = AudioFrame(format="s16", layout="mono", samples=FRAME)
        frame.planes[0].update(pcm.tobytes())
        frame.sample_rate = RATE
        frame.pts = self.pts
        frame.time_base = fractions.Fraction(1, RATE)
        return frame


class ScriptedVoiceClient:
    def __init__(self, send_json: Callable[[dict], Awaitable[None]], receive_json: Callable[[], Awaitable[dict]], *,
                 browser_vad: bool = False) -> None:
        self.send_json, self.receive_json = send_json, receive_json
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.mic = MicTrack()
        self.events: list[dict[str, Any]] = []
        self.socket_frames: list[dict[str, Any]] = []
        self.audio: list[tuple[float, np.ndarray]] = []  # (arrival time, 48 kHz mono int16)
        self.changed = asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        self.answered = asyncio.Event()
        self.bot_speaking = False
        self.barge_ins_sent: list[float] = []  # when each `barge_in` went out
        if browser_vad:
            self.mic.on_sent = BrowserBargeIn(self.recent_output_level, lambda: self.bot_speaking, self._send_barge_in).feed

    async def connect(self) -> dict[str, Any]:
        ready = await self._next_socket_frame()
        if ready.get("type") != "ready":
            raise RuntimeError(f"voice socket answered {ready}")
        self.pc.addTrack(self.mic)
        self.channel = self.pc.createDataChannel("voice")

        @self.channel.on("message")
        def on_message(data: Any) -> None:
            event = {**json.loads(data), "_at": time.monotonic()}
            if event.get("type") == "bot_speaking":
                self.bot_speaking = bool(event.get("speaking"))
            self.events.append(event)
            self.changed.set()

        @self.pc.on("track")
        def on_track(track) -> None:
            self.tasks.append(asyncio.ensure_future(self._receive_audio(track)))

        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.send_json({"type": "offer", "sdp": self.pc.localDescription.sdp})
        self.tasks.append(asyncio.ensure_future(self._read_socket()))
        await asyncio.wait_for(self.answered.wait(), 30)
        return ready

    async def _next_socket_frame(self) -> dict[str, Any]:
        return await self.receive_json()

    async def _read_socket(self) -> None:
        while True:
            frame = await self.receive_json()
            if frame.get("type") == "answer":
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=frame["sdp"], type="answer"))
                self.answered.set()
            else:
                self.socket_frames.append(frame)
                self.changed.set()

    async def _receive_audio(self, track) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            data = frame.to_ndarray().reshape(-1, len(frame.layout.channels)).mean(axis=1)
            self.audio.append((time.monotonic(), data.astype(np.int16)))

    def _send_barge_in(self) -> None:
        if self.channel.readyState == "open":
            self.channel.send(json.dumps({"type": "barge_in"}))
            self.barge_ins_sent.append(time.monotonic())

    def recent_output_level(self) -> float:
        """The loudest received frame of the last 100 ms (the page's echo-guard reference)."""
        now, loudest = time.monotonic(), 0.0
        for at, pcm in reversed(self.audio):
            if now - at > OUTPUT_LEVEL_WINDOW_S:
                break
            loudest = max(loudest, _rms(pcm))
        return loudest

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool], *, timeout: float = 60.0, after: int = 0) -> dict[str, Any]:
        """The first event (DataChannel or socket) at index >= `after` that matches."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events[after:]:
                if predicate(event):
                    return event
            for frame in self.socket_frames:
                if frame.get("type") == "error":
                    raise RuntimeError(f"voice error: {frame}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no matching event; got {[e.get('type') for e in self.events]}")
            self.changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)

    def audio_between(self, start: float, end: float | None = None) -> np.ndarray:
        parts = [pcm for at, pcm in self.audio if at >= start and (end is None or at <= end)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)

    def first_voiced_after(self, start: float) -> float | None:
        for at, pcm in self.audio:
            if at >= start and _rms(pcm) > VOICED_LEVEL:
                return at
        return None

    def voiced_ms(self, start: float, end: float) -> float:
        """Milliseconds of the character's voice received between two moments."""
        total = 0
        for at, pcm in self.audio:
            if start <= at <= end and _rms(pcm) > VOICED_LEVEL:
                total += pcm.size
        return total * 1000 / RATE

    def last_voiced(self) -> float | None:
        for at, pcm in reversed(self.audio):
            if _rms(pcm) > VOICED_LEVEL:
                return at
        return None

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        with contextlib.suppress(BaseException):  # the socket may already be gone
            await self.send_json({"type": "end"})
        self.mic.stop()
        await self.pc.close()
