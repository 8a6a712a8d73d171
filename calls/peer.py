"""The character's side of a call: an avatar peer (rooms.peer) with a voice.

On top of what every avatar peer does (join through signaling, the `params` DataChannel), it
- sends its `avatar` description whenever someone is there to receive it;
- sends its voice as an audio track (the voice session's playout) and listens to the person's
  microphone track, which feeds the voice session (VAD, STT, the chat turn, barge-in);
- sends parameter frames from a FaceDriver (visemes timed to the audio, the reply's emotion, idle);
- serves its VRM (when it has one the person may see) over the `asset` channel when the page asks
  on `control` (`{"t": "asset_req", hash}`), in the page's own framing (begin, 16 KB chunks, end),
  and answers the page's clock-sync pings there;
- opens a `voice` DataChannel carrying the voice session's events (docs/voice-protocol.md), so
  the call page can say what the character is doing (listening, thinking, speaking) and show
  captions. The person is never seen: their frames on `params` are ignored (they reach the
  character as their speech only).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import RTCDataChannel, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError

from chat.voice.session import VoiceSession
from chat.voice.tracks import PlayoutTrack, encode_events, frame_to_16k, is_barge_in
from rooms.peer import AvatarPeer

from .face import FaceDriver

logger = logging.getLogger(__name__)

EVENTS_LABEL = "voice"
MAX_PENDING_EVENTS = 50  # events held until the `voice` channel opens (oldest dropped)
ASSET_CHUNK = 16 * 1024  # as the call page sends its own VRM (frontend/src/call/asset.js)
ASSET_BUFFER_HIGH = 1024 * 1024  # wait for the channel to drain above this


class CharacterPeer(AvatarPeer):
    def __init__(self, *, session: VoiceSession, face: FaceDriver, avatar: dict[str, Any],
                 load_asset: Callable[[], Awaitable[bytes]] | None = None, **kwargs: Any) -> None:
        super().__init__(source=face, leave_when_alone=True, **kwargs)  # type: ignore[arg-type]
        self.session = session
        self.face = face
        self.avatar = avatar
        self.load_asset = load_asset  # the VRM's bytes, read when first asked for
        self.asset: bytes | None = None
        self.assets_sent = 0
        self.control: RTCDataChannel | None = None
        self.asset_channel: RTCDataChannel | None = None
        self.offered = False  # we sent the offer of the current connection (else the page did)
        self.events: RTCDataChannel | None = None
        self.pending: list[str] = []
        self.listeners: set[asyncio.Task] = set()
        self.audio_frames_in = 0  # mic frames received (tests and diagnostics)
        self.track: PlayoutTrack | None = None

    # --- the voice session's events --------------------------------------------------------------
    async def session_event(self, event: dict[str, Any]) -> None:
        """VoiceSession's sink: events that are not tied to an audio frame (transcripts, emotion,
        interrupt, end of speaking, errors)."""
        self.face.on_event(event)
        self._send_event(event)

    def _events_due(self, events: list[dict[str, Any]]) -> None:
        """The playout track is about to send a clause's first frame: its visemes start now."""
        for event in events:
            self.face.on_event(event)
            self._send_event(event)

    def _send_event(self, event: dict[str, Any]) -> None:
        text = encode_events([event])[0]
        if self.events is not None and self.events.readyState == "open":
            self.events.send(text)
            return
        self.pending = [*self.pending[-(MAX_PENDING_EVENTS - 1):], text]

    def _open_events_channel(self, pc: RTCPeerConnection) -> None:
        """Opened in band once the SCTP association is up (no renegotiation): works the same
        whichever side offered. When we offered, the page's `control` and `asset` channels are
        ours to open too (the offering side opens them, docs/protocol.md)."""
        if self.events is not None:
            return
        if self.offered:
            self._adopt_control(pc.createDataChannel("control", ordered=True))
            if self.load_asset is not None:
                self.asset_channel = pc.createDataChannel("asset", ordered=True)
        channel = pc.createDataChannel(EVENTS_LABEL, ordered=True)
        self.events = channel

        @channel.on("message")
        def on_message(data: Any) -> None:
            if is_barge_in(data):  # the page's own VAD heard the person talk over the character
                task = asyncio.ensure_future(self.session.barge_in(reason="browser_vad"))
                self.listeners.add(task)
                task.add_done_callback(self.listeners.discard)

        @channel.on("open")
        def flush() -> None:
            for text in self.pending:
                channel.send(text)
            self.pending.clear()

    # --- signaling ---------------------------------------------------------------------------------
    async def _on_message(self, message: dict[str, Any]) -> None:
        await super()._on_message(message)
        kind = message.get("type")
        # Avatar descriptions are only relayed to someone connected: send ours whenever the
        # person is (or comes back).
        if (kind == "joined" and message.get("peers")) or kind == "peer_joined":
            with contextlib.suppress(Exception):
                await self._send({"type": "avatar", "avatar": self.avatar})

    # --- media -------------------------------------------------------------------------------------
    def _new_pc(self) -> RTCPeerConnection:
        pc = super()._new_pc()
        self.events = self.control = self.asset_channel = None
        # Added before the offer (we offer) or before the remote offer is applied (we answer):
        # aiortc pairs it with the person's audio m-line either way, sendrecv.
        self.track = PlayoutTrack(self.session.playout, self._events_due)
        pc.addTrack(self.track)

        @pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            if channel.label == "control":
                self._adopt_control(channel)
            elif channel.label == "asset":
                self.asset_channel = channel

        @pc.on("track")
        def on_track(track) -> None:
            if track.kind == "audio":
                task = asyncio.ensure_future(self._listen(track))
                self.listeners.add(task)
                task.add_done_callback(self.listeners.discard)

        return pc

    async def _offer(self) -> None:
        self.offered = True
        await super()._offer()

    async def _answer(self, sdp: str) -> None:
        self.offered = False
        await super()._answer(sdp)

    def _adopt_control(self, channel: RTCDataChannel) -> None:
        self.control = channel

        @channel.on("message")
        def on_message(data: Any) -> None:
            if not isinstance(data, str) or len(data) > 4096:
                return
            with contextlib.suppress(ValueError):
                message = json.loads(data)
                if not isinstance(message, dict):
                    return
                if message.get("t") == "ping" and channel.readyState == "open":
                    # The page's clock sync (frontend/src/call/clock.js): our clock is the one our
                    # frames' timestamps use, epoch milliseconds.
                    channel.send(json.dumps({"t": "pong", "id": message.get("id"), "t0": message.get("t0"), "t1": time.time() * 1000}))
                elif message.get("t") == "asset_req" and message.get("hash") == self.avatar.get("fileHash"):
                    task = asyncio.ensure_future(self._send_asset())
                    self.listeners.add(task)
                    task.add_done_callback(self.listeners.discard)

    async def _send_asset(self) -> None:
        """Our VRM over `asset`, framed as the call page frames its own (begin, chunks, end)."""
        channel, digest = self.asset_channel, self.avatar.get("fileHash")
        if channel is None or self.load_asset is None or not digest:
            return
        if self.asset is None:
            try:
                self.asset = await self.load_asset()
            except Exception:
                logger.exception("the character's avatar file could not be read")
                return
        data = self.asset
        for _ in range(200):  # the page may ask before the channel finished opening
            if channel.readyState == "open":
                break
            await asyncio.sleep(0.05)
        else:
            return
        channel.send(json.dumps({"t": "begin", "hash": digest, "size": len(data)}))
        for offset in range(0, len(data), ASSET_CHUNK):
            if channel.readyState != "open":
                return
            while channel.bufferedAmount > ASSET_BUFFER_HIGH:
                await asyncio.sleep(0.01)
            channel.send(data[offset:offset + ASSET_CHUNK])
        channel.send(json.dumps({"t": "end", "hash": digest}))
        self.assets_sent += 1

    async def _listen(self, track) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.audio_frames_in += 1
            await self.session.feed(frame_to_16k(frame))

    async def _send_loop(self, channel: RTCDataChannel) -> None:
        # `params` just opened: the association is up, so the events channel can open too.
        if self.pc is not None:
            self._open_events_channel(self.pc)
        await super()._send_loop(channel)

    def _on_frame(self, channel: RTCDataChannel, data: Any) -> None:
        """The person's face frames: counted, never used (the character hears, it does not see)."""
        self.stats.received += 1

    async def _close_call(self) -> None:
        for task in list(self.listeners):
            task.cancel()
        if self.track is not None:
            self.track.stop()
            self.track = None
        self.events = self.control = self.asset_channel = None
        # A new connection starts from silence: what was queued for the old one is not replayed.
        self.session.playout.flush()
        await super()._close_call()
