"""Reads: rooms, who may take part in a room, and who is in it now."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from .models import Room, normalize_code
from .state import get_seats_sync

GUEST_SESSION_KEY = "rooms_guests"  # session[...] = {room code: {"id": guest id, "name": name}}


@dataclass(frozen=True)
class Participant:
    """Someone allowed into a room's call: a signed-in user or a guest holding a redeemed invite."""

    identity: str  # seat identity: "u:<id>" / "g:<guest id>"
    name: str
    role: str  # owner / member / guest
    turn_subject: str  # the user part of TURN REST usernames
    user_id: int | None = None

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"

    @property
    def is_guest(self) -> bool:
        return self.role == "guest"


def room_by_code(code: str) -> Room | None:
    return Room.objects.select_related("owner").filter(code=normalize_code(code)).first()


def open_rooms_of(*, user_id: int) -> QuerySet[Room]:
    now = timezone.now()
    return Room.objects.filter(owner_id=user_id, closed_at__isnull=True, expires_at__gt=now).order_by("-created_at")


def count_open_rooms(*, user_id: int) -> int:
    return open_rooms_of(user_id=user_id).count()


def guest_in_session(session: Any, room: Room) -> dict | None:
    """The guest record this browser redeemed for `room`, if any."""
    if session is None:
        return None
    guests = session.get(GUEST_SESSION_KEY) or {}
    guest = guests.get(room.code) if isinstance(guests, dict) else None
    if isinstance(guest, dict) and isinstance(guest.get("id"), str) and isinstance(guest.get("name"), str):
        return guest
    return None


def participant_for(*, room: Room, user: Any, session: Any) -> Participant | None:
    """Any signed-in user who knows the (unguessable) code may join; guests need a redeemed invite
    for this very room in their session."""
    if user is not None and getattr(user, "is_authenticated", False):
        role = "owner" if user.pk == room.owner_id else "member"
        return Participant(f"u:{user.pk}", user.name, role, str(user.pk), user.pk)
    guest = guest_in_session(session, room)
    if guest is not None:
        return Participant(f"g:{guest['id']}", guest["name"], "guest", f"guest-{guest['id']}")
    return None


def call_participant_for(*, room: Room, user: Any, session: Any) -> Participant | None:
    """Who may use the call's resources (ICE/TURN credentials, the practice partner): the owner,
    a guest holding this room's redeemed invite, or a user holding one of its seats now. Knowing
    the code is enough to join (participant_for) but not to spend the owner's resources or take
    the second seat for a bot."""
    participant = participant_for(room=room, user=user, session=session)
    if participant is None or participant.is_owner or participant.is_guest:
        return participant
    seated = {seat.identity for seat in get_seats_sync(room.code) if seat is not None}
    return participant if participant.identity in seated else None


def participants_now(room: Room) -> list[dict]:
    """Who holds a seat now (the lobby's "who is waiting"), from the cache only."""
    return [seat.public() for seat in get_seats_sync(room.code) if seat is not None]
