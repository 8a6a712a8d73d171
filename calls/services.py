"""Character calls: start one (the API), and what the worker reads and frees around it.

Order in start_character_call: who may call this character first (someone else's private
character is not found), then whether any voice worker is alive, then the one-call-per-user
slot, then the room, the conversation the transcript goes to, the character's guest seat, and
the request to the workers. Anything that fails after the slot was taken undoes what was made.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from avatarforge.errors import Conflict, ServiceUnavailable
from characters.personas.selectors import get_visible_character
from chat.services import create_conversation
from rooms import services as room_services
from rooms.models import Room

from . import dispatch

logger = logging.getLogger(__name__)

SLOT_SLACK_S = 120  # the slot outlives the longest call a little (a worker that died frees it by TTL)


def slot_key(user_id: int) -> str:
    return f"calls:active:{user_id}"


@dataclass(frozen=True)
class StartedCall:
    room: Room
    conversation_id: str
    session: str


def _no_worker() -> ServiceUnavailable:
    return ServiceUnavailable(
        _("No voice worker is free to bring the character to the call. Try again in a moment."), code="no_voice_worker"
    )


def start_character_call(*, user: Any, character_id: Any, base_url: str) -> StartedCall:
    """Put the character in a new room of the user's; returns it once a voice worker took the call.
    Not one transaction: the wait for a worker must not hold row locks, so each write commits on
    its own and a failure undoes them (end_call)."""
    character = get_visible_character(user=user, character_id=character_id)
    if dispatch.workers_alive() == 0:
        raise _no_worker()
    max_s = settings.CHARACTER_CALL_MAX_S
    if not cache.add(slot_key(user.pk), "starting", timeout=max_s + SLOT_SLACK_S):
        raise Conflict(_("You are already in a call with a character. Hang up that call first."), code="character_call_running")
    request: dict[str, Any] | None = None
    room = None
    try:
        room = room_services.create_room(owner=user, title=character.name)
        conversation = create_conversation(user=user, character_id=character.pk)
        request = dispatch.new_request(
            user_id=user.pk, room_id=room.pk, room_code=room.code, conversation_id=str(conversation.pk),
            guest_session=_guest_session(room=room, user=user, name=character.name), base_url=base_url, max_s=max_s,
        )
        if not dispatch.submit_and_wait(request):
            raise _no_worker()
    except Exception:
        if request is not None:
            end_call(request=request)
        else:
            cache.delete(slot_key(user.pk))
            if room is not None:
                room_services.close_room(room_id=room.pk, user=user)
        raise
    cache.set(slot_key(user.pk), room.code, timeout=max_s + SLOT_SLACK_S)
    return StartedCall(room=room, conversation_id=str(conversation.pk), session=request["session"])


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def _guest_session(*, room: Room, user: Any, name: str) -> str:
    """A session holding a guest seat in `room` for the character (the one-time invite is used
    at once, like the practice partner's), so it joins through the same signaling as anyone."""
    _invite, token = room_services.create_invite(room=room, user=user)
    room, guest = room_services.redeem_invite(token=token, name=name)
    session = _session_store()()
    room_services.remember_guest(session=session, room_code=room.code, guest=guest)
    session.set_expiry(settings.CHARACTER_CALL_MAX_S + SLOT_SLACK_S)
    session.save()
    return session.session_key


@dataclass(frozen=True)
class CallContext:
    user: Any
    conversation_id: str
    room_code: str
    language: str
    voice_id: str
    speed: float
    avatar: dict[str, Any]
    vrm_avatar_id: str | None = None  # the library VRM the peer sends over `asset` when asked


def _license(meta: dict[str, Any]) -> dict[str, Any]:
    """The `license` of an avatar description, bounded as rooms/avatar_schema.py requires (the
    same fields the call page announces for a person's VRM)."""
    from characters.avatars.license_card import license_card, license_summary

    summary = license_summary(meta)
    return {
        "name": str(summary.get("name") or "")[:120],
        "authors": [str(a)[:80] for a in (summary.get("authors") or [])[:5]],
        "url": str(summary.get("url") or summary.get("otherLicenseUrl") or "")[:300],
        "card": [{"key": str(r["key"])[:40], "state": str(r["state"])[:16], "label": str(r["label"])[:60],
                  "value": str(r["value"])[:120]} for r in license_card(meta)[:12]],
    }


def avatar_description(character: Any, viewer: Any) -> tuple[dict[str, Any], str | None]:
    """The character's `avatar` message (docs/protocol.md) and the id of the VRM to serve.

    Its library VRM when the person may see that avatar (the chat page's rule,
    chat.selectors.avatar_for_viewer): the call page then asks the character's peer for the
    file over the `asset` channel by its hash. Otherwise its built-in 2D avatar (fox when none)."""
    from characters.avatars.policy import is_visible_to

    avatar = getattr(character, "avatar", None)
    if avatar is not None and avatar.file_hash and is_visible_to(viewer, avatar):
        description = {"renderer": "vrm", "fileHash": avatar.file_hash, "id": str(avatar.pk),
                       "name": character.name[:200], "license": _license(avatar.meta or {})}
        return description, str(avatar.pk)
    key = character.builtin_avatar or "fox"
    return {"renderer": "2d", "fileHash": None, "id": f"builtin:{key}", "name": character.name[:200], "license": None}, None


MAX_ASSET_BYTES = 210 * 1024 * 1024  # what the call page accepts (frontend/src/call/asset.js)


def vrm_bytes(*, avatar_id: str) -> bytes:
    """The VRM's plaintext (decrypted from storage) for the `asset` channel; the call page checks
    its SHA-256 against the announced fileHash."""
    from characters.avatars.storage import open_decrypted
    from characters.models import Avatar

    avatar = Avatar.objects.get(pk=avatar_id)
    out = bytearray()
    for chunk in open_decrypted(avatar):
        out += chunk
        if len(out) > MAX_ASSET_BYTES:
            raise ValueError("the avatar file is larger than a call page accepts")
    return bytes(out)


def call_context(*, request: dict[str, Any]) -> CallContext:
    """What the worker needs, read fresh from the database."""
    from chat.models import Conversation

    conversation = Conversation.objects.select_related("user", "character", "character__avatar").get(
        pk=request["conversation"], user_id=request["user"])
    character = conversation.character
    avatar, vrm_avatar_id = avatar_description(character, conversation.user)
    return CallContext(
        user=conversation.user, conversation_id=str(conversation.pk), room_code=request["room_code"],
        language=character.language or "en", voice_id=character.voice_id or "", speed=float(character.voice_speed or 1.0),
        avatar=avatar, vrm_avatar_id=vrm_avatar_id,
    )


def end_call(*, request: dict[str, Any]) -> None:
    """Free what the call held: the room (closed: the person's page is told), the character's
    guest session, the user's one-call slot. Safe to call twice."""
    from accounts.models import User

    user = User.objects.filter(pk=request["user"]).first()
    try:
        if user is not None:
            room_services.close_room(room_id=request["room"], user=user)
    except Exception:
        logger.exception("character call %s: could not close room %s", request.get("session"), request.get("room_code"))
    _session_store()(session_key=request["guest_session"]).delete()
    cache.delete(slot_key(request["user"]))
