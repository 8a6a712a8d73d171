"""A WebRTC avatar peer in Python (aiortc): joins a room through the real signaling endpoint,
opens the `params` DataChannel and sends/receives parameter frames.

Used by the `avatar_peer` command (practice partner, manual tests), the end-to-end tests and the
benchmarks. It speaks exactly docs/protocol.md, like the browser does.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiortc import RTCConfiguration, RTCDataChannel, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

from .protocol import FRAME_BYTES, Frame, FrameError, decode, encode, idle_frame

logger = logging.getLogger(__name__)

CHANNEL_LABEL = "params"
CONSENT_RETRANSMISSIONS = 3  # a consent check is sent at 0, 0.5, 1.5 and 3.5 s and waits until 7.5 s


def allow_loopback_candidates(*, only: bool = False) -> None:
    """aioice leaves 127.0.0.1 out of its host candidates, so two peers on one machine without a
    LAN address never connect. Keep it (and, with `only`, use nothing else: tests and benchmarks
    stay on loopback, deterministic and fast)."""
    from aioice import ice

    original = getattr(ice, "_avatarforge_original_get_host_addresses", ice.get_host_addresses)
    ice._avatarforge_original_get_host_addresses = original

    def host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        if only:
            return ["127.0.0.1"] if use_ipv4 else []
        addresses = original(use_ipv4, use_ipv6)
        return (["127.0.0.1"] if use_ipv4 else []) + addresses

    ice.get_host_addresses = host_addresses


def tolerate_consent_delays() -> None:
    """ICE consent freshness as RFC 7675 and browsers have it: consent lapses when no check has
    been answered for 30 s (CONSENT_INTERVAL x CONSENT_FAILURES), and a late answer counts.

    aioice 0.13 sends each 5-second check once and gives it 0.5 s: on a busy machine, where
    answers take longer than that but still come, six checks in a row "fail" and it closes a
    call that is delivering every frame (bench.call_soak: every call dropped 30 s after the load
    rose, the Daphne kill and Redis restart had nothing to do with it). A browser on the other
    end would have kept the call. Here a check retransmits (0.5, 1, 2 s: 7.5 s for an answer),
    and only 30 s without any answer closes the connection. Idempotent; affects this process's
    aioice connections (peer processes: the avatar_peer command, tests, benchmarks)."""
    from aioice import ice, stun

    if getattr(ice.Connection, "_avatarforge_tolerant_consent", False):
        return

    async def query_consent(self: Any) -> None:
        assert self.remote_password is not None  # checks start once connect() has it
        loop = asyncio.get_running_loop()
        answered = loop.time()
        while True:
            await asyncio.sleep(ice.CONSENT_INTERVAL * (0.8 + 0.4 * random.random()))  # noqa: S311 - jitter
            for pair in list(self._nominated.values()):
                request = self.build_request(pair, nominate=False)
                try:
                    await pair.protocol.request(
                        request, pair.remote_addr, integrity_key=self.remote_password.encode("utf8"),
                        retransmissions=CONSENT_RETRANSMISSIONS,
                    )  # fmt: skip
                    answered = loop.time()
                except stun.TransactionError:
                    pass
            if loop.time() - answered >= ice.CONSENT_INTERVAL * ice.CONSENT_FAILURES:
                logger.warning("ICE consent expired: no check answered for %.0f s", loop.time() - answered)
                self._query_consent_task = None
                await self.close()
                return

    ice.Connection.query_consent = query_consent
    ice.Connection._avatarforge_tolerant_consent = True


def now_ms() -> int:
    return int(time.time() * 1000) % (1 << 32)


class FrameSource:
    """Frames to send: the idle animation, or recorded frames replayed in a loop with fresh
    sequence numbers and timestamps."""

    def __init__(self, recorded: list[Frame] | None = None) -> None:
        self.recorded = recorded or []
        self.seq = 0
        self.started = time.monotonic()

    def next(self) -> bytes:
        seq = self.seq
        self.seq = (self.seq + 1) % 65536
        if self.recorded:
            base = self.recorded[seq % len(self.recorded)]
            frame = Frame(
                seq=seq,
                timestamp_ms=now_ms(),
                rotation=base.rotation,
                position=base.position,
                blendshapes=base.blendshapes,
                face_lost=base.face_lost,
                speaking=base.speaking,
            )
        else:
            frame = idle_frame(seq, time.monotonic() - self.started, timestamp_ms=now_ms())
        return encode(frame)


def load_frames(path: Path) -> list[Frame]:
    """A recording: one frame per line, as 144 hex characters or as a JSON `values` object
    (docs/protocol.md). Blank lines and lines starting with # are skipped."""
    frames = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            if line.startswith("{"):
                frames.append(Frame.from_values(json.loads(line)))
            else:
                frames.append(decode(bytes.fromhex(line)))
        except (ValueError, FrameError) as exc:
            raise ValueError(f"{path}:{number}: not a frame ({exc})") from None
    if not frames:
        raise ValueError(f"{path}: no frames")
    return frames


@dataclass
class PeerStats:
    sent: int = 0
    received: int = 0
    invalid: int = 0
    stale: int = 0  # older than the last applied frame (reordered): dropped like a browser would
    mirrored: int = 0
    calls: int = 0
    setup_ms: list[float] = field(default_factory=list)
    reconnects: int = 0  # signaling sockets reopened after a drop (with `reconnect`)
    resume_ms: list[float] = field(default_factory=list)  # socket drop -> `joined` again
    sent_ns: dict[int, int] = field(default_factory=dict)  # seq -> send time (record mode)
    sent_frames: dict[int, bytes] = field(default_factory=dict)  # seq -> frame (record mode)
    received_ns: list[tuple[int, int]] = field(default_factory=list)  # (seq, receive time) (record mode)
    received_frames: list[bytes] = field(default_factory=list)  # raw frames (record mode)
    errors: list[str] = field(default_factory=list)
    last_frame: Frame | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "received": self.received,
            "invalid": self.invalid,
            "stale": self.stale,
            "mirrored": self.mirrored,
            "calls": self.calls,
            "setup_ms": [round(v, 2) for v in self.setup_ms],
            "reconnects": self.reconnects,
            "resume_ms": [round(v, 2) for v in self.resume_ms],
            "errors": self.errors,
        }


class PeerStopped(Exception):
    pass


class AvatarPeer:
    """One participant. `run()` joins, takes part in calls until `duration` passes, `stop()` is
    called, or (with `leave_when_alone`) the other participant leaves; then hangs up.

    With `reconnect`, a signaling socket that drops (server restart, Redis outage) is reopened
    and `join` sent again, which resumes the seat within the grace period (docs/protocol.md,
    Reconnection). The peer connection is peer-to-peer: it does not need the signaling server,
    so a DataChannel that is still open is kept across the outage instead of renegotiated.
    `ws_url` may be a function of the attempt number (0, 1, ...), for a pool of servers."""

    def __init__(
        self,
        *,
        ws_url: str | Callable[[int], str],
        origin: str,
        headers: Iterable[tuple[str, str]] = (),
        mirror: bool = False,
        send: bool = True,
        rate: float = 30.0,
        source: FrameSource | None = None,
        record: bool = False,
        leave_when_alone: bool = False,
        on_event: Callable[[str, dict], None] | None = None,
        reconnect: bool = False,
        reconnect_delay_s: float = 0.25,
    ) -> None:
        tolerate_consent_delays()
        self.ws_url = ws_url
        self.reconnect = reconnect
        self.reconnect_delay_s = reconnect_delay_s
        self.dropped_at: float | None = None  # perf_counter when the signaling socket was lost
        self.attempt = 0
        self.seated = False  # this socket got `joined`
        self.origin = origin
        self.headers = list(headers)
        self.mirror = mirror
        self.send_frames = send and not mirror
        self.rate = rate
        self.source = source or FrameSource()
        self.record = record
        self.leave_when_alone = leave_when_alone
        self.on_event = on_event
        self.stats = PeerStats()
        self.joined: dict[str, Any] | None = None
        self.peer_id: str | None = None
        self.ws: Any = None
        self.pc: RTCPeerConnection | None = None
        self.channel: RTCDataChannel | None = None
        self.last_seq: int | None = None
        self.stopping = asyncio.Event()
        self.channel_open = asyncio.Event()
        self.sender: asyncio.Task | None = None
        self.call_started = 0.0
        self.outcome = "stopped"
        self.pc_tasks: set[asyncio.Task] = set()

    # --- public ------------------------------------------------------------------------------

    def stop(self, outcome: str = "stopped") -> None:
        self.outcome = outcome
        self.stopping.set()

    async def run(self, *, duration: float | None = None) -> PeerStats:
        self.call_started = time.perf_counter()
        deadline = None if duration is None else time.monotonic() + duration
        stopper = asyncio.ensure_future(self.stopping.wait())
        try:
            while not self.stopping.is_set():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    self.outcome = "duration"
                    break
                if not await self._session(remaining, stopper):
                    break
                # The socket dropped (or could not open): try again, keeping the peer connection.
                self.attempt += 1
                delay = min(2.0, self.reconnect_delay_s * min(self.attempt, 8))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(stopper), delay)
        finally:
            stopper.cancel()
            await self._close_call()
        return self.stats

    async def _session(self, remaining: float | None, stopper: asyncio.Future) -> bool:
        """One signaling socket: join and serve it. True when it dropped and `reconnect` asks
        for another one; False when the run is over (stopped, duration, or no reconnect)."""
        import websockets

        url = self.ws_url(self.attempt) if callable(self.ws_url) else self.ws_url
        try:
            ws = await websockets.connect(
                url, origin=self.origin, additional_headers=self.headers, max_size=2**20, open_timeout=15,
                ping_interval=5 if self.reconnect else 20, ping_timeout=5 if self.reconnect else 20,
            )  # fmt: skip
        except (TimeoutError, OSError, websockets.InvalidHandshake):
            if not self.reconnect:
                raise
            self._mark_dropped()
            return True
        async with ws:
            self.ws = ws
            self.seated = False
            await self._send({"type": "join"})
            reader = asyncio.ensure_future(self._read_loop())
            try:
                done, _pending = await asyncio.wait({reader, stopper}, timeout=remaining,
                                                    return_when=asyncio.FIRST_COMPLETED)
                if not done:
                    self.outcome = "duration"
                if reader in done and reader.exception() is not None:
                    raise reader.exception()  # type: ignore[misc]
                if reader in done and not self.stopping.is_set():
                    self._mark_dropped()
                    return True  # dropped, and `reconnect` is on (else _read_loop stopped us)
            finally:
                reader.cancel()
            with contextlib.suppress(Exception):
                await self._send({"type": "hangup"})
        return False

    async def _rejoin(self, ws: Any) -> None:
        if ws is self.ws and not self.seated and not self.stopping.is_set():
            with contextlib.suppress(Exception):
                await self._send({"type": "join"})

    def _mark_dropped(self) -> None:
        if self.dropped_at is None:
            self.dropped_at = time.perf_counter()
            self._emit("signaling_lost", {})

    def call_alive(self) -> bool:
        """Whether the peer-to-peer DataChannel is open on a connected peer connection."""
        return (
            self.pc is not None
            and self.channel is not None
            and self.channel.readyState == "open"
            and self.pc.connectionState == "connected"
        )

    # --- signaling -----------------------------------------------------------------------------

    async def _send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    def _emit(self, name: str, data: dict) -> None:
        if self.on_event:
            self.on_event(name, data)

    async def _read_loop(self) -> None:
        import websockets

        try:
            async for raw in self.ws:
                if isinstance(raw, bytes):
                    continue
                await self._on_message(json.loads(raw))
        except websockets.ConnectionClosed:
            pass
        if not self.stopping.is_set() and not self.reconnect:
            self.stop("socket_closed")

    async def _on_message(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        self._emit(kind or "?", message)
        if kind == "joined":
            self.seated = True
            self.joined = message
            self.peer_id = message["peer_id"]
            self.attempt = 0
            if self.dropped_at is not None:
                self.stats.reconnects += 1
                self.stats.resume_ms.append((time.perf_counter() - self.dropped_at) * 1000)
                self.dropped_at = None
            # Back after a signaling outage with the P2P call still up: keep it, no new offer.
            if message.get("initiator") and not self.call_alive():
                await self._offer()
        elif kind == "peer_joined":
            # The other side (re)joined. A call that is still connected peer-to-peer is theirs
            # too (their signaling came back): keep it. Otherwise the newcomer offers; start clean.
            # Anyone else's offer replaces the connection anyway (see "offer").
            if not self.call_alive():
                await self._close_call()
                self.call_started = time.perf_counter()
        elif kind == "offer":
            await self._answer(message["sdp"])
        elif kind == "answer":
            if self.pc is not None:
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=message["sdp"], type="answer"))
        elif kind == "candidate":
            await self._add_candidate(message.get("candidate"))
        elif kind == "peer_left":
            await self._close_call()
            if self.leave_when_alone:
                self.stop("peer_left")
        elif kind == "room_closed":
            self.stop("room_closed")
        elif kind == "error":
            self.stats.errors.append(message.get("code", "error"))
            if message.get("code") == "busy" and not self.seated and self.reconnect:
                # The server could not reach its state store (Redis restarting): join again shortly.
                asyncio.get_running_loop().call_later(0.5, lambda: asyncio.ensure_future(self._rejoin(self.ws)))
            final = ("room_full", "room_closed", "room_not_found", "not_authenticated", "too_many_errors")
            if message.get("code") in final or (message.get("code") == "replaced" and not self.reconnect):
                self.stop(message["code"])

    def _ice_servers(self) -> list[RTCIceServer]:
        servers = []
        for server in (self.joined or {}).get("ice_servers", []):
            servers.append(RTCIceServer(urls=server["urls"], username=server.get("username"),
                                        credential=server.get("credential")))
        return servers

    def _new_pc(self) -> RTCPeerConnection:
        # Always an explicit configuration: aiortc's default adds a public STUN server, which
        # fails (slowly) on machines without internet access.
        pc = RTCPeerConnection(RTCConfiguration(iceServers=self._ice_servers()))
        self.pc = pc
        self.channel_open.clear()
        self.last_seq = None

        @pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            if channel.label == CHANNEL_LABEL:
                self._wire_channel(channel)

        @pc.on("connectionstatechange")
        def on_state() -> None:
            self._emit("connection_state", {"state": pc.connectionState})

        return pc

    def _wire_channel(self, channel: RTCDataChannel) -> None:
        self.channel = channel

        def opened() -> None:
            if self.channel_open.is_set():
                return
            self.channel_open.set()
            self.stats.calls += 1
            self.stats.setup_ms.append((time.perf_counter() - self.call_started) * 1000)
            self._emit("channel_open", {})
            if self.send_frames and self.sender is None:
                self.sender = asyncio.ensure_future(self._send_loop(channel))

        if channel.readyState == "open":
            opened()
        else:
            channel.on("open", opened)

        @channel.on("message")
        def on_message(data: Any) -> None:
            self._on_frame(channel, data)

    def _on_frame(self, channel: RTCDataChannel, data: Any) -> None:
        if not isinstance(data, bytes):
            self.stats.invalid += 1
            return
        received = time.time_ns()
        try:
            frame = decode(data)
        except FrameError:
            self.stats.invalid += 1
            return
        self.stats.received += 1
        if self.last_seq is not None and not (1 <= (frame.seq - self.last_seq) % 65536 <= 32767):
            self.stats.stale += 1
        else:
            self.last_seq = frame.seq
            self.stats.last_frame = frame
        if self.record:
            self.stats.received_ns.append((frame.seq, received))
            self.stats.received_frames.append(bytes(data))
        if self.mirror and channel.readyState == "open":
            channel.send(data)
            self.stats.mirrored += 1

    async def _send_loop(self, channel: RTCDataChannel) -> None:
        interval = 1.0 / self.rate
        next_at = time.perf_counter()
        try:
            while channel.readyState == "open":
                data = self.source.next()
                assert len(data) == FRAME_BYTES
                if self.record:
                    seq = int.from_bytes(data[2:4], "little")
                    self.stats.sent_ns[seq] = time.time_ns()
                    self.stats.sent_frames[seq] = data
                channel.send(data)
                self.stats.sent += 1
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        finally:
            self.sender = None

    async def _offer(self) -> None:
        await self._close_call()
        pc = self._new_pc()
        channel = pc.createDataChannel(CHANNEL_LABEL, ordered=False, maxRetransmits=0)
        self._wire_channel(channel)
        await pc.setLocalDescription(await pc.createOffer())  # aiortc gathers all candidates here
        await self._send({"type": "offer", "sdp": pc.localDescription.sdp})

    async def _answer(self, sdp: str) -> None:
        await self._close_call()
        pc = self._new_pc()
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await self._send({"type": "answer", "sdp": pc.localDescription.sdp})

    async def _add_candidate(self, candidate: dict | None) -> None:
        if self.pc is None:
            return
        if candidate is None:
            await self.pc.addIceCandidate(None)
            return
        text = candidate.get("candidate") or ""
        if not text:
            return
        ice = candidate_from_sdp(text.split(":", 1)[1] if text.startswith("candidate:") else text)
        ice.sdpMid = candidate.get("sdpMid")
        ice.sdpMLineIndex = candidate.get("sdpMLineIndex")
        with contextlib.suppress(Exception):  # a candidate for a transport we do not use
            await self.pc.addIceCandidate(ice)

    async def _close_call(self) -> None:
        if self.sender is not None:
            self.sender.cancel()
            self.sender = None
        pc, self.pc, self.channel = self.pc, None, None
        self.channel_open.clear()
        if pc is not None:
            self._emit("call_closed", {})
            await pc.close()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]
