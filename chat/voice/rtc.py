"""The worker's WebRTC side of one voice session (aiortc), signaled through the channel layer."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import RTCConfiguration, RTCDataChannel, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp
from django.conf import settings

from .playout import FRAME_SAMPLES
from .session import VoiceSession
from .tracks import PlayoutTrack, encode_events, frame_to_16k, is_barge_in

logger = logging.getLogger(__name__)

CHANNEL_LABEL = "voice"


def allow_loopback_candidates(*, only: bool = False) -> None:
    """aioice leaves 127.0.0.1 out of its host candidates, so two peers on one machine without a
    LAN address never connect; keep it (`only`: use nothing else, for tests and benchmarks).
    rooms.peer does the same for the avatar peer; chat may not import rooms (one layer)."""
    from aioice import ice

    original = getattr(ice, "_avatarforge_original_get_host_addresses", ice.get_host_addresses)
    ice._avatarforge_original_get_host_addresses = original

    def host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        if only:
            return ["127.0.0.1"] if use_ipv4 else []
        return (["127.0.0.1"] if use_ipv4 else []) + original(use_ipv4, use_ipv6)

    ice.get_host_addresses = host_addresses


def ice_servers() -> list[RTCIceServer]:
    servers = []
    for entry in getattr(settings, "VOICE_ICE_SERVERS", []) or []:
        servers.append(RTCIceServer(urls=entry["urls"], username=entry.get("username"), credential=entry.get("credential")))
    return servers


class RtcLink:
    """Answers the browser's offer: its mic track feeds the session, our PlayoutTrack carries
    the character's voice, the `voice` DataChannel carries the events."""

    def __init__(self, session: VoiceSession, relay: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        self.session = session
        self.relay = relay  # to the browser over the signaling socket
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=ice_servers()))
        self.channel: RTCDataChannel | None = None
        self.tasks: set[asyncio.Task] = set()
        self.pending: list[str] = []
        self.track = PlayoutTrack(session.playout, self._events_due)
        self.sender = self.pc.addTrack(self.track)

        @self.pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            if channel.label != CHANNEL_LABEL:
                return
            self.channel = channel
            for text in self.pending:
                channel.send(text)
            self.pending.clear()

            @channel.on("message")
            def on_message(data: Any) -> None:
                self._spawn(self._client_event(data))

        @self.pc.on("track")
        def on_track(track) -> None:
            if track.kind == "audio":
                self._spawn(self._listen(track))

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def send_event(self, event: dict[str, Any]) -> None:
        text = encode_events([event])[0]
        if self.channel is not None and self.channel.readyState == "open":
            self.channel.send(text)
        else:
            self.pending.append(text)

    def _events_due(self, events: list[dict[str, Any]]) -> None:
        """Called by the track just before it returns the clause's first frame."""
        rtp = self._next_rtp_timestamp()
        for event in events:
            if rtp is not None and event.get("type") == "visemes":
                event = {**event, "rtp_timestamp": rtp}
            self.send_event(event)

    def _next_rtp_timestamp(self) -> int | None:
        """The RTP timestamp the frame being returned now will carry: the sender sends each frame
        before it asks the track for the next, so it is the last packet's plus one frame. The
        browser reads the timestamp being played (getSynchronizationSources) and places the
        clause's visemes on the audio itself. aiortc keeps the last timestamp privately (its
        RTCP sender reports use it); None when it has sent nothing yet."""
        last = getattr(self.sender, "_RTCRtpSender__rtp_timestamp", None)
        if not isinstance(last, int) or getattr(self.sender, "_RTCRtpSender__packet_count", 0) == 0:
            return None
        return (last + FRAME_SAMPLES) % 2**32  # Opus's RTP clock is 48 kHz, like our frames

    async def _client_event(self, data: Any) -> None:
        if is_barge_in(data):
            await self.session.barge_in(reason="browser_vad")

    async def _listen(self, track) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            await self.session.feed(frame_to_16k(frame))

    async def answer(self, sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())  # gathers candidates
        await self.relay({"type": "answer", "sdp": self.pc.localDescription.sdp})

    async def add_candidate(self, candidate: dict[str, Any] | None) -> None:
        if not candidate or not isinstance(candidate.get("candidate"), str) or not candidate["candidate"]:
            return
        text = candidate["candidate"]
        ice = candidate_from_sdp(text.split(":", 1)[1] if text.startswith("candidate:") else text)
        ice.sdpMid = candidate.get("sdpMid")
        ice.sdpMLineIndex = candidate.get("sdpMLineIndex")
        with contextlib.suppress(Exception):
            await self.pc.addIceCandidate(ice)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        self.track.stop()
        await self.pc.close()
