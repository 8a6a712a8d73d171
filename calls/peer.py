"""The character's side of a call: an avatar peer (rooms.peer) with a voice.

On top of what every avatar peer does (join through signaling, the `params` DataChannel), it
- sends its `avatar` description whenever someone is there to receive it;
- sends its voice as an audio track (the voice session's playout) and listens to the person's
  microphone track, which feeds the voice session (VAD, STT, the chat turn, barge-in);
- sends parameter frames from a FaceDriver (visemes timed to the audio, the reply's emotion, idle);
- opens a `voice` DataChannel carrying the voice session's events (docs/voice-protocol.md), so
  the call page can say what the character is doing (listening, thinking, speaking) and show
  captions. The person is never seen: their frames on `params` are ignored (they reach the
  character as their speech only).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from aiortc import RTCDataChannel, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError

from chat.voice.session import VoiceSession
from chat.voice.tracks import PlayoutTrack, encode_events, frame_to_16k
from rooms.peer import AvatarPeer

from .face import FaceDriver

logger = logging.getLogger(__name__)

EVENTS_LABEL = "voice"
MAX_PENDING_EVENTS = 50  # events held until the `voice` channel opens (oldest dropped)


class CharacterPeer(AvatarPeer):
    def __init__(self, *, session: VoiceSession, face: FaceDriver, avatar: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(source=face, leave_when_alone=True, **kwargs)  # type: ignore[arg-type]
        self.session = session
        self.face = face
        self.avatar = avatar
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
        now = time.monotonic()
        for event in events:
            self.face.on_event(event, at=now)
            self._send_event(event)

    def _send_event(self, event: dict[str, Any]) -> None:
        text = encode_events([event])[0]
        if self.events is not None and self.events.readyState == "open":
            self.events.send(text)
            return
        self.pending = [*self.pending[-(MAX_PENDING_EVENTS - 1):], text]

    def _open_events_channel(self, pc: RTCPeerConnection) -> None:
        """Opened in band once the SCTP association is up (no renegotiation): works the same
        whichever side offered."""
        if self.events is not None:
            return
        channel = pc.createDataChannel(EVENTS_LABEL, ordered=True)
        self.events = channel

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
        self.events = None
        # Added before the offer (we offer) or before the remote offer is applied (we answer):
        # aiortc pairs it with the person's audio m-line either way, sendrecv.
        self.track = PlayoutTrack(self.session.playout, self._events_due)
        pc.addTrack(self.track)

        @pc.on("track")
        def on_track(track) -> None:
            if track.kind == "audio":
                task = asyncio.ensure_future(self._listen(track))
                self.listeners.add(task)
                task.add_done_callback(self.listeners.discard)

        return pc

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
        self.events = None
        # A new connection starts from silence: what was queued for the old one is not replayed.
        self.session.playout.flush()
        await super()._close_call()
