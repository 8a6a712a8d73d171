"""Reads for conversations, with authorization built in: a user only ever sees their own
conversations; anybody else's answer 404 `not_found`, as if they did not exist."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from avatarforge.errors import NotFound

from .emotions import DEFAULT_POSES, EMOTIONS
from .models import Conversation, Emotion, EmotionPose, Message, Summary

# An in-flight message not touched for this long belongs to a process that died.
STALE_AFTER = timedelta(minutes=15)
MAX_PAGE = 200


def _parse_id(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError):
        return None


def conversations_for(*, user: Any) -> QuerySet[Conversation]:
    return Conversation.objects.filter(user=user).select_related("character").order_by("-updated_at", "-created_at")


def get_conversation(*, user: Any, conversation_id: Any) -> Conversation:
    pk = _parse_id(conversation_id)
    conversation = (
        Conversation.objects.select_related("character", "character__avatar", "user").filter(pk=pk, user=user).first()
        if pk is not None and user is not None and user.is_authenticated else None
    )
    if conversation is None:
        raise NotFound(_("No such conversation."), code="not_found")
    return conversation


def messages_for(*, conversation: Conversation, before_seq: int | None = None, limit: int = 50) -> list[Message]:
    """The newest `limit` messages (before `before_seq`), oldest first."""
    qs = Message.objects.filter(conversation=conversation)
    if before_seq is not None:
        qs = qs.filter(seq__lt=before_seq)
    rows = list(qs.order_by("-seq")[: max(1, min(limit, MAX_PAGE))])
    rows.reverse()
    return rows


def summaries_for(*, conversation: Conversation, active_only: bool = False) -> QuerySet[Summary]:
    qs = Summary.objects.filter(conversation=conversation)
    if active_only:
        qs = qs.filter(parent__isnull=True)
    return qs.order_by("start_seq", "-level")


def in_flight(*, conversation_id: Any = None, user_id: Any = None) -> QuerySet[Message]:
    """Replies queued or being written that are not stale."""
    qs = Message.objects.filter(status__in=Message.IN_FLIGHT, updated_at__gte=timezone.now() - STALE_AFTER)
    if conversation_id is not None:
        qs = qs.filter(conversation_id=conversation_id)
    if user_id is not None:
        qs = qs.filter(conversation__user_id=user_id)
    return qs


def count_concurrent_conversations(user_id: int) -> int:
    """Plan usage `concurrent_conversations`: conversations with a reply queued or being written."""
    return in_flight(user_id=user_id).values("conversation_id").distinct().count()


def emotion_labels() -> dict[str, str]:
    """Emotion -> its label in the active language: the one table the page's mood badge uses, on
    the server (the model's choices, get_last_emotion_display) and in the browser (chat-strings)."""
    return {value: str(label) for value, label in Emotion.choices}


def emotion_table() -> dict[str, dict[str, object]]:
    """Emotion -> avatar parameters: the admin's rows over the defaults, every emotion present."""
    table = {name: dict(DEFAULT_POSES[name]) for name in EMOTIONS}
    for pose in EmotionPose.objects.all():
        table[pose.emotion] = pose.as_dict()
    for pose in table.values():
        expressions = pose.get("expressions") or {}
        pose["expressions"] = {name: float(expressions.get(name, 0.0)) for name in ("happy", "sad", "angry", "surprised", "relaxed")}
    return table


def avatar_for_viewer(*, user: Any, character: Any) -> dict[str, Any]:
    """How the chat page shows the character: a VRM the viewer may see, else a built-in 2D face.

    {"kind": "vrm", "url", "renderer", "name"} or {"kind": "2d", "key"}.
    """
    avatar = getattr(character, "avatar", None)
    if avatar is not None:
        from characters.avatars.links import signed_file_url
        from characters.avatars.policy import is_visible_to
        from characters.avatars.selectors import RENDERER_KIND

        if is_visible_to(user, avatar):
            url, ttl = signed_file_url(avatar=avatar)
            return {"kind": "vrm", "url": url, "expiresIn": ttl, "renderer": RENDERER_KIND.get(avatar.vrm_version, "gltf"),
                    "name": avatar.name}
    key = getattr(character, "builtin_avatar", "") or "fox"
    return {"kind": "2d", "key": f"builtin:{key}"}
