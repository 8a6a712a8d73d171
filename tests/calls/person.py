"""The person's side of a character call in tests: an avatar peer (rooms.peer, through the real
signaling endpoint) with a microphone track playing recorded speech, that records the
character's audio, its parameter frames and its `voice` DataChannel events with arrival times."""
from __future__ import annotations

import asyncio
import hashlib
import json
import time
from typing import Any

import numpy as np
from aiortc import RTCDataChannel, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError

from chat.voice.client import VOICED_LEVEL, MicTrack
from rooms.peer import AvatarPeer
from rooms.protocol import BLENDSHAPE_NAMES, decode

JAW = BLENDSHAPE_NAMES.index("jawOpen")


class PersonPeer(AvatarPeer):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(record=True, **kwargs)
        self.mic = MicTrack()
        self.audio: list[tuple[float, np.ndarray]] = []  # (time.time(), 48 kHz mono int16)
        self.events: list[dict[str, Any]] = []
        self.signals: list[tuple[str, dict]] = []
        self.tasks: set[asyncio.Task] = set()
        self.control: RTCDataChannel | None = None
        self.control_messages: list[dict[str, Any]] = []
        self.assets: dict[str, bytes] = {}  # hash -> bytes received on `asset` whose SHA-256 matched
        self._asset: dict[str, Any] | None = None

    async def _offer(self) -> None:
        """As the call page offers (frontend/src/call/peer.js): audio, then params, control, asset."""
        await self._close_call()
        pc = self._new_pc()
        self._wire_channel(pc.createDataChannel("params", ordered=False, maxRetransmits=0))
        self._wire_control(pc.createDataChannel("control", ordered=True))
        self._wire_asset(pc.createDataChannel("asset", ordered=True))
        await pc.setLocalDescription(await pc.createOffer())
        await self._send({"type": "offer", "sdp": pc.localDescription.sdp})

    def _wire_control(self, channel: RTCDataChannel) -> None:
        self.control = channel
        channel.on("message", lambda data: self.control_messages.append(json.loads(data)))

    def _wire_asset(self, channel: RTCDataChannel) -> None:
        @channel.on("message")
        def on_message(data: Any) -> None:
            if isinstance(data, str):
                message = json.loads(data)
                if message["t"] == "begin":
                    self._asset = {"hash": message["hash"], "size": message["size"], "bytes": bytearray()}
                elif message["t"] == "end" and self._asset and self._asset["hash"] == message["hash"]:
                    body = bytes(self._asset["bytes"])
                    if len(body) == self._asset["size"] and hashlib.sha256(body).hexdigest() == message["hash"]:
                        self.assets[message["hash"]] = body
                    self._asset = None
            elif self._asset is not None:
                self._asset["bytes"] += data

    def request_asset(self, digest: str) -> None:
        assert self.control is not None and self.control.readyState == "open"
        self.control.send(json.dumps({"t": "asset_req", "hash": digest}))

    def _new_pc(self) -> RTCPeerConnection:
        pc = super()._new_pc()
        if self.mic.readyState == "live":
            pc.addTrack(self.mic)

        @pc.on("track")
        def on_track(track) -> None:
            if track.kind == "audio":
                task = asyncio.ensure_future(self._receive_audio(track))
                self.tasks.add(task)

        @pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            if channel.label == "voice":
                self.voice_channel = channel
                channel.on("message", lambda data: self.events.append({**json.loads(data), "_at": time.time()}))
            elif channel.label == "control":
                self._wire_control(channel)
            elif channel.label == "asset":
                self._wire_asset(channel)

        return pc

    async def _on_message(self, message: dict[str, Any]) -> None:
        self.signals.append((message.get("type") or "", message))
        await super()._on_message(message)

    async def _receive_audio(self, track) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            data = frame.to_ndarray().reshape(-1, len(frame.layout.channels)).mean(axis=1)
            self.audio.append((time.time(), data.astype(np.int16)))

    # --- reading what arrived ----------------------------------------------------------------------
    def event(self, kind: str, **match: Any) -> dict[str, Any] | None:
        return next((e for e in self.events if e["type"] == kind and all(e.get(k) == v for k, v in match.items())), None)

    def voiced_ms(self, start: float, end: float) -> float:
        total = 0
        for at, pcm in self.audio:
            if start <= at <= end and np.sqrt(np.mean((pcm.astype(np.float32) / 32768) ** 2)) > VOICED_LEVEL:
                total += pcm.size
        return total * 1000 / 48000

    def jaw(self, start: float, end: float) -> list[float]:
        """jawOpen of the character's frames that arrived between two moments (time.time())."""
        values = []
        for (_seq, received_ns), raw in zip(self.stats.received_ns, self.stats.received_frames, strict=True):
            if start <= received_ns / 1e9 <= end:
                values.append(decode(raw).blendshapes[JAW])
        return values

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        self.mic.stop()
