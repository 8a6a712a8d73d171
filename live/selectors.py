"""Reads of live mode. Foreign sessions answer not-found, never forbidden (no existence leak)."""
from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from avatarforge.errors import NotFound

from .models import LiveSession, SessionStatus, ViewerMemory


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def sessions_of(*, user: Any) -> QuerySet[LiveSession]:
    return LiveSession.objects.filter(owner_id=user.pk).select_related("character")


def owned_session(*, user: Any, session_id: Any) -> LiveSession:
    pk = _uuid(session_id)
    session = sessions_of(user=user).filter(pk=pk).first() if pk and user.is_authenticated else None
    if session is None:
        raise NotFound("No such live session.", code="live_session_not_found")
    return session


def session_by_overlay_key(*, key: str) -> LiveSession:
    session = LiveSession.objects.select_related("character").filter(overlay_key=key).first() \
        if isinstance(key, str) and 16 <= len(key) <= 64 else None
    if session is None:
        raise NotFound("This overlay link is not valid (it may have been revoked).", code="overlay_not_found")
    return session


def running_sessions() -> QuerySet[LiveSession]:
    return LiveSession.objects.filter(status=SessionStatus.RUNNING).select_related("character", "owner")


def viewer_memories(*, user: Any, platform: str | None = None) -> QuerySet[ViewerMemory]:
    qs = ViewerMemory.objects.filter(owner_id=user.pk)
    return qs.filter(platform=platform) if platform else qs
