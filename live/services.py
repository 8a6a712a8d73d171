"""Writes of live mode: sessions, their controls, overlay keys and viewer memory.

Every function takes the acting user and authorizes inside (ownership first, then validation).
State changes are announced on the channel layer after commit (live.events), so the worker that
holds a session, its dashboard and its overlay all follow.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from avatarforge.errors import AppError, Conflict, LimitExceeded, NotFound
from characters.models import Character
from characters.personas.selectors import get_visible_character

from . import events
from .models import LiveSession, Platform, SessionStatus, ViewerMemory, new_overlay_key
from .selectors import owned_session
from .settings_schema import effective_settings, validate_settings

MAX_SESSIONS_PER_USER = 20
MAX_RUNNING_PER_USER = 3  # Chzzk allows at most 3 user sessions per streamer
MAX_SAY_LENGTH = 500
MAX_RECENT_PER_VIEWER = 10


def _usable_character(user: Any, character_id: Any) -> Character:
    """Whatever the user may chat with (own, preset, public), by the personas' own visibility rule."""
    try:
        return get_visible_character(user=user, character_id=character_id)
    except NotFound:
        raise AppError("Choose one of your characters, a preset or a public character.", code="invalid_character",
                       details={"character": "not found or not usable"}) from None


def _lock_owner(user: Any) -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


@transaction.atomic
def create_session(*, user: Any, title: str, character_id: Any, platform: str = Platform.TEST,
                   settings: dict[str, Any] | None = None) -> LiveSession:
    _lock_owner(user)  # two parallel creates cannot both take the last session
    if LiveSession.objects.filter(owner_id=user.pk).count() >= MAX_SESSIONS_PER_USER:
        raise LimitExceeded(f"You can keep at most {MAX_SESSIONS_PER_USER} live sessions.", code="live_sessions_exceeded",
                            details={"allowed": MAX_SESSIONS_PER_USER})
    if platform not in Platform.values:
        raise AppError("Unknown platform.", code="invalid_platform", details={"platform": list(Platform.values)})
    character = _usable_character(user, character_id)
    return LiveSession.objects.create(owner=user, title=title, character=character, platform=platform,
                                      settings=validate_settings(settings or {}))


@transaction.atomic
def update_session(*, user: Any, session_id: Any, **changes: Any) -> LiveSession:
    session = owned_session(user=user, session_id=session_id)
    session = LiveSession.objects.select_for_update().get(pk=session.pk)
    if "character_id" in changes:
        session.character = _usable_character(user, changes.pop("character_id"))
    if "settings" in changes:
        session.settings = validate_settings(changes.pop("settings"))
    for field in ("title", "hide_streamer_chat"):
        if field in changes:
            setattr(session, field, changes.pop(field))
    if changes:
        raise AppError("These fields cannot be changed here.", code="invalid_fields", details=sorted(changes))
    session.save()
    events.publish(events.control_group(session.pk), {"type": "settings", "settings": effective_settings(session.settings)})
    events.publish(events.overlay_group(session.pk), {"type": "state", "hide_streamer_chat": session.hide_streamer_chat})
    return session


@transaction.atomic
def delete_session(*, user: Any, session_id: Any) -> None:
    session = owned_session(user=user, session_id=session_id)
    if session.status == SessionStatus.RUNNING:
        raise Conflict("Stop the session before deleting it.", code="live_session_running")
    session.delete()


def _set_status(session: LiveSession, status: str, detail: str = "") -> LiveSession:
    session.status = status
    session.status_detail = detail[:300]
    now = timezone.now()
    if status == SessionStatus.RUNNING:
        session.started_at, session.stopped_at = now, None
    else:
        session.stopped_at = now
    session.save(update_fields=["status", "status_detail", "started_at", "stopped_at", "updated_at"])
    payload = {"type": "status", "status": status, "detail": session.status_detail}
    events.publish(events.dashboard_group(session.pk), payload)
    events.publish(events.control_group(session.pk), payload)
    return session


@transaction.atomic
def start_session(*, user: Any, session_id: Any) -> LiveSession:
    session = owned_session(user=user, session_id=session_id)
    _lock_owner(user)
    session = LiveSession.objects.select_for_update().get(pk=session.pk)
    if session.status == SessionStatus.RUNNING:
        return session
    running = LiveSession.objects.filter(owner_id=user.pk, status=SessionStatus.RUNNING).count()
    if running >= MAX_RUNNING_PER_USER:
        raise LimitExceeded(f"At most {MAX_RUNNING_PER_USER} sessions can run at once.", code="live_running_exceeded",
                            details={"allowed": MAX_RUNNING_PER_USER})
    if session.platform == Platform.CHZZK and not hasattr(user, "chzzk_account"):
        raise AppError("Link your Chzzk account first.", code="chzzk_not_linked")
    # The character may have become private, or been hidden by moderators, since it was chosen.
    _usable_character(user, session.character_id)
    return _set_status(session, SessionStatus.RUNNING, "waiting for a live worker")


@transaction.atomic
def stop_session(*, user: Any, session_id: Any) -> LiveSession:
    session = owned_session(user=user, session_id=session_id)
    session = LiveSession.objects.select_for_update().get(pk=session.pk)
    return _set_status(session, SessionStatus.STOPPED)


@transaction.atomic
def stop_sessions_of_hidden_characters(*, character_ids: list[Any]) -> int:
    """Moderators hid these characters: their running sessions stop (the live worker leaves on
    the status event), and the owner's dashboard says why. Returns how many stopped."""
    running = LiveSession.objects.select_for_update().filter(character_id__in=character_ids, status=SessionStatus.RUNNING)
    stopped = 0
    for session in running:
        _set_status(session, SessionStatus.STOPPED, "stopped: moderators hid this character")
        stopped += 1
    return stopped


@transaction.atomic
def set_ai_paused(*, user: Any, session_id: Any, paused: bool) -> LiveSession:
    session = owned_session(user=user, session_id=session_id)
    LiveSession.objects.filter(pk=session.pk).update(ai_paused=paused, updated_at=timezone.now())
    session.ai_paused = paused
    events.publish(events.control_group(session.pk), {"type": "pause", "paused": paused})
    events.publish(events.dashboard_group(session.pk), {"type": "pause", "paused": paused})
    return session


@transaction.atomic
def emergency_stop(*, user: Any, session_id: Any) -> LiveSession:
    """Silence at once: the overlay stops audio, the worker drops its queue and aborts the turn,
    and the AI stays paused until the streamer resumes it."""
    session = set_ai_paused(user=user, session_id=session_id, paused=True)
    events.publish(events.control_group(session.pk), {"type": "emergency_stop"})
    events.publish(events.overlay_group(session.pk), {"type": "silence"})
    return session


def say_line(*, user: Any, session_id: Any, text: str) -> LiveSession:
    session = owned_session(user=user, session_id=session_id)
    text = " ".join(str(text or "").split())
    if not text or len(text) > MAX_SAY_LENGTH:
        raise AppError(f"Write 1-{MAX_SAY_LENGTH} characters.", code="invalid_say", details={"text": "length"})
    if session.status != SessionStatus.RUNNING:
        raise Conflict("Start the session first.", code="live_session_not_running")
    with transaction.atomic():
        events.publish(events.control_group(session.pk), {"type": "say", "text": text})
    return session


def post_test_chat(*, user: Any, session_id: Any, nickname: str, text: str, donation: int = 0) -> LiveSession:
    """The test source: the streamer types chat as a pretend viewer."""
    session = owned_session(user=user, session_id=session_id)
    if session.platform != Platform.TEST:
        raise Conflict("Only test-source sessions take typed chat.", code="not_a_test_session")
    if session.status != SessionStatus.RUNNING:
        raise Conflict("Start the session first.", code="live_session_not_running")
    with transaction.atomic():
        events.publish(events.control_group(session.pk), {
            "type": "test_chat", "nickname": nickname, "text": text, "donation": max(0, int(donation or 0))})
    return session


@transaction.atomic
def clear_overlay(*, user: Any, session_id: Any) -> None:
    session = owned_session(user=user, session_id=session_id)
    events.publish(events.overlay_group(session.pk), {"type": "clear"})


@transaction.atomic
def rotate_overlay_key(*, user: Any, session_id: Any) -> LiveSession:
    session = owned_session(user=user, session_id=session_id)
    old_group = events.overlay_group(session.pk)
    session.overlay_key = new_overlay_key()
    session.save(update_fields=["overlay_key", "updated_at"])
    events.publish(old_group, {"type": "revoked"})  # open overlays with the old key close themselves
    return session


# Viewer memory -------------------------------------------------------------------------------
@transaction.atomic
def remember_viewer(*, session: LiveSession, platform: str, viewer_id: str, nickname: str, text: str,
                    donation: int = 0) -> ViewerMemory | None:
    """Called by the live worker for each answered event; nothing is kept when memory is off."""
    if not effective_settings(session.settings)["memory_enabled"]:
        return None
    memory, _ = ViewerMemory.objects.select_for_update().get_or_create(
        owner_id=session.owner_id, platform=platform, viewer_id=viewer_id[:64], defaults={"nickname": nickname[:40]})
    memory.nickname = nickname[:40]
    if text:
        memory.recent = [*memory.recent, text[:200]][-MAX_RECENT_PER_VIEWER:]
    memory.message_count += 1
    memory.donated_total += max(0, donation)
    memory.save()
    return memory


@transaction.atomic
def wipe_viewer_memory(*, user: Any, viewer_pk: int | None = None) -> int:
    qs = ViewerMemory.objects.filter(owner_id=user.pk)
    if viewer_pk is not None:
        qs = qs.filter(pk=viewer_pk)
    deleted, _ = qs.delete()
    return deleted


@transaction.atomic
def purge_expired_viewer_memory(*, now: dt.datetime | None = None) -> int:
    """Celery beat: drop what is older than each streamer's longest retention setting."""
    now = now or timezone.now()
    deleted = 0
    owners = ViewerMemory.objects.values_list("owner_id", flat=True).distinct()
    for owner_id in owners:
        days = [effective_settings(s)["retention_days"] for s in
                LiveSession.objects.filter(owner_id=owner_id).values_list("settings", flat=True)] or [1]
        cutoff = now - dt.timedelta(days=max(days))
        deleted += ViewerMemory.objects.filter(owner_id=owner_id, last_seen__lt=cutoff).delete()[0]
    return deleted


@transaction.atomic
def ensure_conversation(*, session_id: Any) -> Any:
    """The chat conversation a live session's turns go into (history, summaries, memory are the
    normal chat ones); created on first use. Called by the worker for the session's owner."""
    from chat.services import create_conversation

    session = LiveSession.objects.select_for_update().select_related("owner").get(pk=session_id)
    if session.conversation_id is None:
        conversation = create_conversation(user=session.owner, character_id=session.character_id,
                                           title=f"Live: {session.title}"[:100])
        session.conversation = conversation
        session.save(update_fields=["conversation", "updated_at"])
    return session.conversation_id
