"""Signaling for 1:1 avatar calls: `/ws/rooms/<code>/` (docs/protocol.md, section 2).

Thin by design: who holds the seats lives in rooms.state (the shared cache), so any Daphne
process can carry either side of a call; messages go to the other participant's channel through
the channel layer, never back to the sender. SDP, candidates and avatar metadata are relayed and
forgotten: never stored, never logged.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from django.utils.translation import gettext as _

from avatarforge.consumers import CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED, AppJsonConsumer

from . import state
from .ice import ice_servers_for
from .models import Room
from .selectors import Participant, participant_for, room_by_code
from .signaling import (
    ERROR_LIMIT,
    ERROR_WINDOW_S,
    RELAYED_TYPES,
    SignalError,
    TokenBucket,
    decode_text,
    parse_client_message,
)

logger = logging.getLogger(__name__)

CLOSE_ROOM_FULL = 4409
CLOSE_ROOM_CLOSED = 4410
CLOSE_REPLACED = 4412
CLOSE_TOO_MANY_ERRORS = 4429
RELEASE_RETRY_S = (0.2, 0.5, 1.0, None)  # pauses between attempts to release a seat; None: give up


@database_sync_to_async
def _load_room_and_participant(code: str, user: Any, session: Any) -> tuple[Room | None, Participant | None]:
    room = room_by_code(code)
    if room is None:
        return None, None
    return room, participant_for(room=room, user=user, session=session)


class RoomConsumer(AppJsonConsumer):
    require_auth = False  # guests authenticate through their session, checked in connect

    room: Room | None = None
    participant: Participant | None = None
    seat: state.Seat | None = None
    other_peer: str | None = None
    other_channel: str | None = None

    async def connect(self) -> None:
        await self.accept_with_protocol()
        self.code = str(self.scope["url_route"]["kwargs"]["code"])
        self.bucket = TokenBucket()
        self.errors: deque[float] = deque()
        self.tasks: set[asyncio.Task] = set()
        self.left = False  # hung up, replaced or closed: do not hold the seat for a comeback
        room, participant = await _load_room_and_participant(self.code, self.scope.get("user"), self.scope.get("session"))
        if room is None:
            await self._refuse("room_not_found", _("No room has this code. Check the link."), CLOSE_NOT_FOUND)
            return
        if not room.is_open:
            await self._refuse("room_closed", _("This room has been closed or has expired."), CLOSE_ROOM_CLOSED)
            return
        if participant is None:
            await self._refuse(
                "not_authenticated", _("Sign in, or open the room's invite link, to join."), CLOSE_UNAUTHENTICATED
            )
            return
        self.room, self.participant = room, participant

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels (4.2+) hops to the one shared sync thread before every message to close stale
        database connections. This consumer reads the database only in connect, through
        database_sync_to_async, which closes them itself; the hop per frame and per relayed event
        made every `join`, offer and candidate wait in line behind the whole process's database
        work (bench.signaling_load: join_ms_p95 over 100 ms with 4000 sockets)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def _refuse(self, code: str, message: str, close_code: int) -> None:
        self.left = True
        await self.send_error(code, message)
        await self.close(code=close_code)

    # --- incoming ------------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if self.participant is None or self.left:
            return
        wait = self.bucket.take(time.monotonic())
        if wait:
            # Harmless by contract (docs/protocol.md): a fast but well-formed client is told to
            # slow down; it does not count toward the too_many_errors close.
            await self.send_error(
                "rate_limited", _("Too many messages. Slow down."), {"retry_after_ms": int(wait * 1000) + 1}
            )
            return
        try:
            message = parse_client_message(decode_text(text_data, bytes_data))
            await self._handle(message)
        except SignalError as exc:
            await self._strike(exc)
        except state.StateBusy:
            await self._strike(SignalError("busy", _("The room is busy. Try again in a moment.")))

    async def _strike(self, exc: SignalError) -> None:
        """A bad message gets an error frame; ERROR_LIMIT of them within ERROR_WINDOW_S close the socket."""
        now = time.monotonic()
        self.errors.append(now)
        while self.errors and self.errors[0] < now - ERROR_WINDOW_S:
            self.errors.popleft()
        if len(self.errors) >= ERROR_LIMIT:
            await self.send_error(
                "too_many_errors", _("Too many invalid messages; the connection is closed."), {"last": exc.code}
            )
            await self._leave(hangup=False)
            await self.close(code=CLOSE_TOO_MANY_ERRORS)
            return
        await self.send_error(exc.code, exc.message, exc.details)

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "ping":
            await self.send_json({"type": "pong", "t": message["t"]})
        elif kind == "join":
            await self._join()
        elif self.seat is None:
            raise SignalError("not_joined", _("Send a join message first."))
        elif kind == "hangup":
            await self._leave(hangup=True)
            await self.close(code=1000)
        elif kind in RELAYED_TYPES:
            if kind != "avatar" and self.other_channel is None:
                raise SignalError("peer_not_connected", _("The other participant is not connected yet."))
            if self.other_channel is not None:
                try:
                    await self.channel_layer.send(
                        self.other_channel,
                        {"type": "rooms.relay", "from_peer": self.seat.peer_id, "message": message},
                    )
                except Exception:  # ChannelFull, Redis unavailable: tell the sender, keep the socket
                    logger.warning("rooms: relay failed in room %s", self.code)
                    raise SignalError(
                        "relay_failed", _("The message could not be delivered. Try again.")
                    ) from None

    async def _join(self) -> None:
        if self.seat is not None:
            raise SignalError("already_joined", _("This connection has already joined."))
        assert self.participant is not None and self.room is not None
        p = self.participant
        try:
            claim = await state.claim_seat(
                code=self.code, identity=p.identity, name=p.name, role=p.role, channel=self.channel_name
            )
        except state.RoomFull:
            await self.send_error(
                "room_full", _("Two people are already in this call."), {"max_participants": state.SEATS}
            )
            self.left = True
            await self.close(code=CLOSE_ROOM_FULL)
            return
        self.seat = claim.seat
        other = claim.other
        other_live = other is not None and other.connected and other.channel is not None
        if other_live:
            self.other_peer, self.other_channel = other.peer_id, other.channel
        # Answer first, then tell the others: this consumer handles one message at a time, so
        # our client's offer is relayed only after peer_joined below has been sent (same
        # channel, same order) and the other side knows who it comes from.
        await self.send_json(
            {
                "type": "joined",
                "room": self.code,
                "peer_id": claim.seat.peer_id,
                "seat": claim.seat_index,
                "role": p.role,
                "name": p.name,
                "resumed": claim.resumed,
                "initiator": other_live,
                "polite": claim.seat_index == 1,
                "peers": [other.public()] if other else [],
                "ice_servers": ice_servers_for(subject=p.turn_subject),
                "grace_s": state.GRACE_S,
            }
        )
        if claim.replaced_channel:
            await self._send_event(claim.replaced_channel, {"type": "rooms.replaced"})
        if other_live:
            await self._send_event(
                other.channel,
                {
                    "type": "rooms.peer_joined",
                    "peer": claim.seat.public(),
                    "channel": self.channel_name,
                    "resumed": claim.resumed,
                },
            )
        elif other is not None:
            self._watch_grace(other.peer_id, max(0.0, other.deadline - time.time()))
        self._spawn(self._heartbeat())

    async def _leave(self, *, hangup: bool) -> None:
        if self.seat is None or self.left:
            self.left = True
            return
        self.left = True
        released = await self._release(hangup=hangup)
        if released is None:
            return  # Redis stayed away: the seat's lease frees it
        if not released.released:
            # The seat moved to a newer socket of the same participant (a reload whose new page
            # joined before this close was handled): the other side was told peer_joined already,
            # and a peer_disconnected now would cut it off from the resumed call.
            return
        other = released.other
        if other is not None and other.connected and other.channel:
            if hangup:
                event = {"type": "rooms.peer_left", "peer_id": self.seat.peer_id, "reason": "hangup"}
            else:
                event = {"type": "rooms.peer_disconnected", "peer_id": self.seat.peer_id, "grace_s": state.GRACE_S}
            await self._send_event(other.channel, event)

    async def _release(self, *, hangup: bool) -> state.Released | None:
        """Release our seat. A release that Redis misses keeps the call's key until its lease
        runs out (up to a minute, with the other side waiting for a peer that is gone), so a
        restart's worth of blips is retried before giving up."""
        assert self.seat is not None
        for pause in RELEASE_RETRY_S:
            try:
                return await state.release_seat(
                    code=self.code, peer_id=self.seat.peer_id, channel=self.channel_name, hangup=hangup
                )
            except state.StateBusy:
                if pause is None:
                    logger.warning("rooms: could not release a seat in room %s; its lease will free it", self.code)
                    return None
                await asyncio.sleep(pause)
        return None

    async def disconnect(self, code: int) -> None:
        for task in list(self.tasks):
            task.cancel()
        await self._leave(hangup=False)

    # --- background: lease renewal and grace timers -----------------------------------------

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _heartbeat(self) -> None:
        assert self.seat is not None and self.room is not None
        while not self.left:
            await asyncio.sleep(state.HEARTBEAT_S)
            if self.left:
                return
            if not self.room.is_open:  # expired during the call (closing is announced by the closer)
                await self._leave(hangup=True)
                await self.send_json({"type": "room_closed", "reason": "expired"})
                await self.close(code=CLOSE_ROOM_CLOSED)
                return
            try:
                if not await state.renew_seat(code=self.code, peer_id=self.seat.peer_id, channel=self.channel_name):
                    await self.rooms_replaced({})
                    return
            except state.StateBusy:
                continue

    def _watch_grace(self, peer_id: str, delay: float) -> None:
        async def watch() -> None:
            await asyncio.sleep(delay + 0.05)
            try:
                gone = await state.drop_if_gone(code=self.code, peer_id=peer_id)
            except state.StateBusy:
                return
            if gone and not self.left and self.other_peer in (None, peer_id):
                self.other_peer = self.other_channel = None
                await self.send_json({"type": "peer_left", "peer_id": peer_id, "reason": "timeout"})

        self._spawn(watch())

    # --- events from the other participant's consumer (channel layer) -----------------------

    async def _send_event(self, channel: str, event: dict[str, Any]) -> None:
        try:
            await self.channel_layer.send(channel, event)
        except Exception:  # a full or vanished channel: the peer will learn from the lease/grace
            logger.warning("rooms: could not deliver %s in room %s", event.get("type"), self.code)

    async def rooms_relay(self, event: dict[str, Any]) -> None:
        if self.left or event.get("from_peer") != self.other_peer:
            return  # a late message from a peer that has left or been replaced
        await self.send_json({**event["message"], "from": event["from_peer"]})

    async def rooms_peer_joined(self, event: dict[str, Any]) -> None:
        if self.left:
            return
        self.other_peer, self.other_channel = event["peer"]["peer_id"], event["channel"]
        await self.send_json({"type": "peer_joined", "peer": event["peer"], "resumed": event["resumed"]})

    async def rooms_peer_disconnected(self, event: dict[str, Any]) -> None:
        if self.left or event["peer_id"] != self.other_peer:
            return
        # Two consumers of one participant (a reload: the old page's close, the new page's join)
        # send to us independently, so this can arrive after the comeback's peer_joined: believe
        # the seats, not the order of events.
        try:
            seats = await state.get_seats(self.code)
        except state.StateBusy:
            seats = []
        if any(seat is not None and seat.peer_id == event["peer_id"] and seat.connected for seat in seats):
            return
        self.other_channel = None
        await self.send_json({"type": "peer_disconnected", "peer_id": event["peer_id"], "grace_s": event["grace_s"]})
        self._watch_grace(event["peer_id"], float(event["grace_s"]))

    async def rooms_peer_left(self, event: dict[str, Any]) -> None:
        if self.left or event["peer_id"] != self.other_peer:
            return
        self.other_peer = self.other_channel = None
        await self.send_json({"type": "peer_left", "peer_id": event["peer_id"], "reason": event["reason"]})

    async def rooms_replaced(self, event: dict[str, Any]) -> None:
        if self.left:
            return
        self.left = True  # the seat belongs to the newer socket now: do not release it
        await self.send_error("replaced", _("You joined this room from another window or device."))
        await self.close(code=CLOSE_REPLACED)

    async def rooms_closed(self, event: dict[str, Any]) -> None:
        if self.left:
            return
        self.left = True  # the room's state is already forgotten by the closer
        reason = event.get("reason", "closed")
        await self.send_json({"type": "room_closed", "reason": reason})
        await self.close(code=CLOSE_ROOM_CLOSED)

    @classmethod
    async def encode_json(cls, content: Any) -> str:
        return json.dumps(content, separators=(",", ":"))
