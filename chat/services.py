"""Conversation writes: create, rename, delete, start and finish replies, summaries.

A reply is two rows written together under the user's row lock: the user's message and the
assistant's placeholder (status queued). The lock serializes the plan limit
(`concurrent_conversations` = conversations with a reply in flight) and the rule of one reply in
flight per conversation. Streaming itself happens outside transactions (chat.turns, which calls
these); when it ends, `finish_reply` stores the text, emotion, token counts and timings.
"""
from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import lock_user_for_limit
from avatarforge.errors import AppError, Conflict, NotFound
from avatarforge.text import normalize_name
from inference import llm
from inference.tokens import count_tokens

from . import memory
from .emotions import NEUTRAL, normalize_emotion
from .models import MAX_REPLY_TEXT, MAX_TITLE, MAX_USER_TEXT, Conversation, Message
from .selectors import STALE_AFTER, get_conversation, in_flight

logger = logging.getLogger(__name__)

MAX_CONVERSATIONS_PER_USER = 1000


def _check_model(model_name: str) -> str:
    if model_name:
        llm.get_model(model_name)  # raises unknown_model
    return model_name


def _clean_scenario(scenario: dict[str, Any] | None) -> dict[str, str]:
    scenario = dict(scenario or {})
    if "opponent" in scenario and "counterpart" not in scenario:
        scenario["counterpart"] = scenario["opponent"]
    limits = {"counterpart": 200, "situation": 4000, "background": 8000}
    cleaned: dict[str, str] = {}
    for key, limit in limits.items():
        value = scenario.get(key) or ""
        if not isinstance(value, str):
            raise AppError(_("The scenario's %(key)s must be text.") % {"key": key}, code="invalid", details={"scenario": key})
        if len(value) > limit:
            raise AppError(
                _("The scenario's %(key)s may have at most %(n)d characters.") % {"key": key, "n": limit},
                code="invalid", details={"scenario": key},
            )
        cleaned[key] = value.strip()
    return cleaned


@transaction.atomic
def create_conversation(
    *,
    user: Any,
    character_id: Any,
    title: str = "",
    model_name: str = "",
    user_name: str = "",
    scenario: dict[str, Any] | None = None,
) -> Conversation:
    """Start a conversation with a character the user may see; the character's first message
    (with {{char}}/{{user}} filled in) opens it."""
    from characters.personas.prompt import substitute_placeholders
    from characters.personas.selectors import get_visible_character

    character = get_visible_character(user=user, character_id=character_id)
    _check_model(model_name)
    scenario = _clean_scenario(scenario)
    if Conversation.objects.filter(user=user).count() >= MAX_CONVERSATIONS_PER_USER:
        raise AppError(
            _("You have %(n)d conversations, the most one account may keep. Delete some to start new ones.")
            % {"n": MAX_CONVERSATIONS_PER_USER},
            code="too_many_conversations",
        )
    conversation = Conversation.objects.create(
        user=user,
        character=character,
        title=(title or "").strip()[:MAX_TITLE] or character.name,
        model_name=model_name,
        user_name=normalize_name(user_name, max_length=100),
        scenario_counterpart=scenario["counterpart"],
        scenario_situation=scenario["situation"],
        scenario_background=scenario["background"],
    )
    greeting = substitute_placeholders(
        character.first_message or "", char_name=character.name, user_name=conversation.user_name or user.name
    ).strip()
    if greeting:
        greeting = greeting[:MAX_REPLY_TEXT]
        Message.objects.create(
            conversation=conversation, seq=1, role=Message.Role.ASSISTANT, text=greeting, emotion=NEUTRAL,
            token_count=count_tokens(greeting), status=Message.Status.COMPLETE, completed_at=timezone.now(),
        )
        conversation.message_count = 1
        conversation.last_message_at = timezone.now()
        conversation.save(update_fields=["message_count", "last_message_at"])
    return conversation


@transaction.atomic
def update_conversation(
    *,
    user: Any,
    conversation_id: Any,
    title: str | None = None,
    model_name: str | None = None,
    user_name: str | None = None,
    scenario: dict[str, Any] | None = None,
) -> Conversation:
    conversation = get_conversation(user=user, conversation_id=conversation_id)
    fields = ["updated_at"]
    if title is not None:
        title = normalize_name(title, max_length=MAX_TITLE)
        if not title:
            raise AppError(_("A title cannot be empty."), code="invalid", details={"title": ["blank"]})
        conversation.title = title
        fields.append("title")
    if model_name is not None:
        conversation.model_name = _check_model(model_name)
        fields.append("model_name")
    if user_name is not None:
        conversation.user_name = normalize_name(user_name, max_length=100)
        fields.append("user_name")
    if scenario is not None:
        cleaned = _clean_scenario(scenario)
        conversation.scenario_counterpart = cleaned["counterpart"]
        conversation.scenario_situation = cleaned["situation"]
        conversation.scenario_background = cleaned["background"]
        fields += ["scenario_counterpart", "scenario_situation", "scenario_background"]
    conversation.save(update_fields=fields)
    return conversation


@transaction.atomic
def delete_conversation(*, user: Any, conversation_id: Any) -> None:
    """Deletes the conversation with all its messages and summaries (CASCADE)."""
    conversation = get_conversation(user=user, conversation_id=conversation_id)
    conversation.delete()
    memory.release_summary_lock(conversation_id)


@transaction.atomic
def start_reply(*, user: Any, conversation_id: Any, text: str, model_name: str | None = None) -> tuple[Message, Message]:
    """Store the user's message and a queued reply; refuse a second reply in flight.

    Raises LimitExceeded (plan's concurrent conversations), Conflict `reply_in_progress`,
    NotFound (conversation or a character no longer visible), AppError for bad input.
    """
    text = (text or "").strip()
    if not text:
        raise AppError(_("Write a message first."), code="empty_message", details={"text": ["blank"]})
    if len(text) > MAX_USER_TEXT:
        raise AppError(
            _("A message may have at most %(n)d characters.") % {"n": MAX_USER_TEXT},
            code="message_too_long", details={"text": ["max_length"], "max_length": MAX_USER_TEXT},
        )
    conversation = get_conversation(user=user, conversation_id=conversation_id)
    cfg = llm.get_model(model_name or conversation.model_name or None)
    # The character may have become private since: the conversation stays, replies stop.
    from characters.personas.selectors import get_visible_character

    try:
        get_visible_character(user=user, character_id=conversation.character_id)
    except NotFound:
        raise NotFound(_("This character is no longer available."), code="character_unavailable") from None

    # Replies orphaned by a process that died must not block the conversation forever.
    Message.objects.filter(
        conversation=conversation, status__in=Message.IN_FLIGHT, updated_at__lt=timezone.now() - STALE_AFTER
    ).update(status=Message.Status.FAILED, error_code="interrupted", updated_at=timezone.now())

    # Lock the user's row first (needed=0 only locks): it serializes this user's requests, so the
    # in-flight check below cannot race; then the plan limit counts the other conversations.
    lock_user_for_limit(user_id=user.pk, limit="concurrent_conversations", needed=0)
    if in_flight(conversation_id=conversation.pk).exists():
        raise Conflict(_("The character is still answering. Wait for the reply or stop it."), code="reply_in_progress")
    lock_user_for_limit(user_id=user.pk, limit="concurrent_conversations", needed=1)
    last = Message.objects.filter(conversation=conversation).aggregate(m=Max("seq"))["m"] or 0
    now = timezone.now()
    user_message = Message.objects.create(
        conversation=conversation, seq=last + 1, role=Message.Role.USER, text=text, token_count=count_tokens(text),
        status=Message.Status.COMPLETE, completed_at=now,
    )
    reply = Message.objects.create(
        conversation=conversation, seq=last + 2, role=Message.Role.ASSISTANT, status=Message.Status.QUEUED, model_name=cfg.name,
    )
    updates: dict[str, Any] = {"message_count": F("message_count") + 1, "last_message_at": now, "updated_at": now}
    if conversation.title == conversation.character.name and conversation.message_count <= 1:
        # A first message names the conversation better than the character's name does.
        updates["title"] = text.splitlines()[0][:60]
    Conversation.objects.filter(pk=conversation.pk).update(**updates)
    return user_message, reply


def mark_streaming(*, message_id: int, queue_ms: int) -> None:
    Message.objects.filter(pk=message_id, status=Message.Status.QUEUED).update(
        status=Message.Status.STREAMING, queue_ms=queue_ms, updated_at=timezone.now()
    )


@transaction.atomic
def finish_reply(
    *,
    message_id: int,
    text: str,
    emotion: str | None,
    status: str,
    error_code: str = "",
    ttft_ms: int | None = None,
    duration_ms: int | None = None,
    queue_ms: int | None = None,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
) -> Message | None:
    """Store how a reply ended. An empty stopped or failed reply is deleted (nothing to show).

    Returns the message (None when deleted, or when the conversation is gone)."""
    message = Message.objects.select_for_update().filter(pk=message_id).select_related("conversation").first()
    if message is None:
        return None
    text = (text or "").strip()[:MAX_REPLY_TEXT]
    conversation = message.conversation
    if not text and status != Message.Status.COMPLETE:
        message.delete()
        Conversation.objects.filter(pk=conversation.pk).update(message_count=F("message_count") - 1)
        return None
    message.text = text
    message.emotion = normalize_emotion(emotion) or NEUTRAL
    message.status = status
    message.error_code = error_code[:64]
    message.token_count = count_tokens(text)
    message.ttft_ms = ttft_ms
    message.duration_ms = duration_ms
    if queue_ms is not None:
        message.queue_ms = queue_ms
    message.prompt_tokens = prompt_tokens
    message.completion_tokens = completion_tokens if completion_tokens is not None else message.token_count
    message.completed_at = timezone.now()
    message.save()
    Conversation.objects.filter(pk=conversation.pk).update(
        message_count=F("message_count") + 1, last_emotion=message.emotion, last_message_at=message.completed_at,
        updated_at=message.completed_at,
    )
    return message


@transaction.atomic
def discard_reply(*, user_message_id: int, reply_id: int) -> None:
    """Remove a message and its reply: the turn failed and keeps nothing (the client still has its text)."""
    rows = Message.objects.filter(pk__in=[user_message_id, reply_id])
    conversation_ids = set(rows.values_list("conversation_id", flat=True))
    deleted, _detail = rows.delete()
    if deleted and conversation_ids:
        # The placeholder reply was never counted; the user's message was.
        Conversation.objects.filter(pk__in=conversation_ids).update(message_count=F("message_count") - 1)


def summarize_conversation(*, conversation_id: Any) -> int:
    """Background: write the summaries the conversation needs (chat.tasks calls this)."""
    try:
        return memory.summarize(conversation_id)
    finally:
        memory.release_summary_lock(conversation_id)


@transaction.atomic
def truncate_reply_to_heard(*, user: Any, message_id: int, text: str) -> Message | None:
    """Cut a stored character reply back to what the user actually heard (voice barge-in).

    The model may have written more than was played before the user interrupted; the history
    (and so the next prompt) must hold only what was heard, or the character "remembers" saying
    things nobody heard. Only ever shortens: `text` must be a prefix of the stored text (after
    whitespace normalization), otherwise it is refused. Nothing heard deletes the reply.
    Returns the message, or None when it was deleted."""
    message = (
        Message.objects.select_for_update().select_related("conversation")
        .filter(pk=message_id, role=Message.Role.ASSISTANT).first()
    )
    if message is None or message.conversation.user_id != getattr(user, "pk", None):
        raise NotFound(_("This message does not exist."), code="not_found")
    heard = " ".join((text or "").split())
    stored = " ".join(message.text.split())
    if not stored.startswith(heard):
        raise AppError(_("Only what the character said can be kept."), code="invalid", details={"text": ["not_a_prefix"]})
    if not heard:
        conversation = message.conversation
        message.delete()
        Conversation.objects.filter(pk=conversation.pk).update(message_count=F("message_count") - 1)
        return None
    message.text = heard
    message.token_count = count_tokens(heard)
    message.status = Message.Status.CANCELLED
    message.save(update_fields=["text", "token_count", "status"])
    return message
