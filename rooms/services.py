"""Room writes: create, close, invite, redeem, start the practice partner."""
from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from avatarforge.errors import AppError, Conflict, Forbidden, LimitExceeded, NotFound, ServiceUnavailable
from avatarforge.text import normalize_name

from . import practice, state
from .models import Room, RoomInvite
from .selectors import GUEST_SESSION_KEY, Participant, count_open_rooms

logger = logging.getLogger(__name__)

MAX_OPEN_ROOMS_PER_USER = 20
INVITE_TTL = timedelta(hours=24)
PRACTICE_INVITE_TTL = timedelta(minutes=2)
INVITE_SALT = "rooms.invite"
GUEST_NAME_MAX = 40


class RoomGone(AppError):
    status = 410
    code = "room_closed"
    default_message = "This room is closed."


def _require_open(room: Room) -> None:
    if not room.is_open:
        raise RoomGone(_("This room has been closed or has expired. Create a new one."))


def _require_owner(room: Room, user: User) -> None:
    if room.owner_id != user.pk:
        raise Forbidden(_("Only the room's owner can do this."), code="not_room_owner")


@transaction.atomic
def create_room(*, owner: User, title: str = "") -> Room:
    # Serialize on the user's row so two concurrent creates cannot both pass the cap.
    User.objects.select_for_update().get(pk=owner.pk)
    if count_open_rooms(user_id=owner.pk) >= MAX_OPEN_ROOMS_PER_USER:
        raise LimitExceeded(
            _("You have %(n)d open rooms, the most allowed. Close one first.") % {"n": MAX_OPEN_ROOMS_PER_USER},
            code="too_many_rooms",
            details={"allowed": MAX_OPEN_ROOMS_PER_USER},
        )
    now = timezone.now()
    return Room.objects.create(
        owner=owner, title=normalize_name(title, max_length=80), created_at=now, expires_at=now + timedelta(hours=settings.ROOM_TTL_HOURS)
    )


def notify_room_closed(code: str, reason: str) -> None:
    """Tell connected sockets and forget the call's live state (seats)."""
    seats = state.forget_sync(code)
    layer = get_channel_layer()
    for seat in seats:
        if seat.channel and layer is not None:
            try:
                async_to_sync(layer.send)(seat.channel, {"type": "rooms.closed", "reason": reason})
            except Exception:  # a full or vanished channel must not fail the close
                logger.warning("could not notify a socket of room %s closing", code)
    cache.delete(state.practice_key(code))


@transaction.atomic
def close_room(*, room_id: int, user: User) -> Room:
    room = Room.objects.select_for_update().filter(pk=room_id).first()
    if room is None:
        raise NotFound(_("No such room."), code="room_not_found")
    _require_owner(room, user)
    if room.closed_at is None:
        room.closed_at = timezone.now()
        room.save(update_fields=["closed_at"])
    code = room.code
    transaction.on_commit(lambda: notify_room_closed(code, "closed"))
    return room


def invite_token(invite: RoomInvite) -> str:
    return signing.dumps(str(invite.pk), salt=INVITE_SALT, compress=False)


@transaction.atomic
def create_invite(*, room: Room, user: User) -> tuple[RoomInvite, str]:
    """A one-time guest link. Returns the invite and its token (the link's secret part)."""
    _require_owner(room, user)
    _require_open(room)
    invite = RoomInvite.objects.create(
        room=room, created_by=user, expires_at=min(room.expires_at, timezone.now() + INVITE_TTL)
    )
    return invite, invite_token(invite)


def clean_guest_name(raw: str) -> str:
    name = normalize_name(raw, max_length=GUEST_NAME_MAX)
    if not name:
        raise AppError(_("Enter a display name."), code="guest_name_required")
    return name


def _usable_invite(token: str, *, lock: bool) -> RoomInvite:
    invalid = AppError(
        _("This invite link is not valid any more. Ask the room's owner for a new one."), code="invite_invalid"
    )
    try:
        invite_id = uuid.UUID(signing.loads(token[:200], salt=INVITE_SALT))
    except (signing.BadSignature, ValueError, TypeError):
        raise invalid from None
    invites = RoomInvite.objects.select_related("room")
    invite = (invites.select_for_update() if lock else invites).filter(pk=invite_id).first()
    if invite is None or not invite.is_usable:
        raise invalid
    _require_open(invite.room)
    return invite


def check_invite(*, token: str) -> RoomInvite:
    """The invite behind `token` if it could be redeemed now; raises what redeem_invite would
    (used, expired, forged, room closed) without using it. The invite page asks this first, so
    a used link says so at once instead of after the guest typed a name."""
    return _usable_invite(token, lock=False)


@transaction.atomic
def redeem_invite(*, token: str, name: str) -> tuple[Room, dict]:
    """Use a guest invite once. Returns the room and the guest record for the guest's session."""
    guest_name = clean_guest_name(name)
    invite = _usable_invite(token, lock=True)
    invite.used_at = timezone.now()
    invite.save(update_fields=["used_at"])
    return invite.room, {"id": uuid.uuid4().hex, "name": guest_name}


def _practice_person_key(identity: str) -> str:
    return f"rooms:practice-by:{identity}"


def _practice_slot_key(index: int) -> str:
    return f"rooms:practice-slot:{index}"


def _take_practice_slot(room_code: str) -> str | None:
    """One of PRACTICE_MAX_RUNNING deployment-wide slots (cache keys shared by all processes,
    expiring with the process's hard limit), or None when all are taken."""
    for index in range(settings.PRACTICE_MAX_RUNNING):
        key = _practice_slot_key(index)
        if cache.add(key, room_code, timeout=practice.HARD_LIMIT_S + 60):
            return key
    return None


def _practice_seat_available(seats: list[state.Seat | None], identity: str) -> bool:
    """A seat the partner can take: an empty one, or one held (grace period) for the other
    participant of a requester who is in the call (freed for the partner, see start_practice)."""
    if any(seat is None for seat in seats):
        return True
    mine = [seat for seat in seats if seat is not None and seat.identity == identity]
    others = [seat for seat in seats if seat is not None and seat.identity != identity]
    return bool(mine) and mine[0].connected and all(not seat.connected for seat in others)


def start_practice(*, room: Room, participant: Participant, base_url: str) -> None:
    """Start the practice-partner mirror peer for this room: at most one per room (a cache key
    taken with `add`, shared by all processes), one per person at a time, PRACTICE_MAX_RUNNING
    on the whole deployment (each is a child process working for up to 10 minutes: without these
    caps, one account with 20 rooms could start 20 of them), only while a seat is free, outside
    the request (a supervised subprocess with a hard time limit). A seat held for the requester's
    dropped partner is freed for the practice partner."""
    _require_open(room)
    if not _practice_seat_available(state.get_seats_sync(room.code), participant.identity):
        raise Conflict(_("Two people are already in this room."), code="room_full")
    key = state.practice_key(room.code)
    if not cache.add(key, "starting", timeout=practice.HARD_LIMIT_S + 60):
        raise Conflict(_("The practice partner is already in this room."), code="practice_running")
    person_key = _practice_person_key(participant.identity)
    if not cache.add(person_key, room.code, timeout=practice.HARD_LIMIT_S + 60):
        cache.delete(key)
        raise Conflict(
            _("Your practice partner is still in another room. End that practice first."), code="practice_limit"
        )
    slot_key = _take_practice_slot(room.code)
    if slot_key is None:
        cache.delete_many([key, person_key])
        raise ServiceUnavailable(
            _("All practice partners are busy right now. Try again in a few minutes."), code="practice_busy"
        )
    # The other participant dropped and their seat is held for the grace period: the requester
    # chose to practice instead of waiting, so the partner takes that seat (else it would be
    # refused with room_full and leave at once). If they come back meanwhile, the room is full.
    try:
        state.free_held_seat_sync(code=room.code, identity=participant.identity)
        with transaction.atomic():
            invite = RoomInvite.objects.create(
                room=room,
                created_by=room.owner,
                for_practice=True,
                expires_at=min(room.expires_at, timezone.now() + PRACTICE_INVITE_TTL),
            )
        practice.spawn(
            room_code=room.code, base_url=base_url, invite_token=invite_token(invite), lock_key=key,
            extra_keys=(person_key, slot_key),
        )
    except Exception as exc:
        cache.delete_many([key, person_key, slot_key])
        logger.exception("practice partner could not start for room %s", room.code)
        raise ServiceUnavailable(
            _("The practice partner could not start. Try again shortly."), code="practice_unavailable"
        ) from exc


def remember_guest(*, session: Any, room_code: str, guest: dict) -> None:
    """Store a redeemed guest seat right in the guest's session; the socket checks it in connect.

    The session gets a new key first (data kept), as on log-in: a session id planted in the
    browser beforehand must not come to hold the seat."""
    if hasattr(session, "cycle_key"):
        session.cycle_key()
    guests = dict(session.get(GUEST_SESSION_KEY) or {})
    guests.pop(room_code, None)
    guests[room_code] = guest
    while len(guests) > 20:  # a session is not a place to pile up old rooms
        guests.pop(next(iter(guests)))
    session[GUEST_SESSION_KEY] = guests
    session.modified = True
