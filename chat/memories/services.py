"""Writes of memories: extraction's storing (dedup, cap), edit, delete, forget all, on/off.

Authorization first: every function that takes a user touches only that user's rows (others'
are 404). Extraction is the background part (chat.tasks.extract_memories -> extract_memories).
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from avatarforge.errors import AppError
from inference import embeddings
from inference.tokens import encoding

from ..models import MAX_MEMORY_TEXT, CharacterMemory, Conversation, MemorySetting, Message
from . import extraction
from .retrieval import vectors_for
from .selectors import character_for_memories, get_memory, memory_enabled

logger = logging.getLogger(__name__)

MAX_MEMORIES = 200  # per (user, character): the oldest extracted facts go first
DUPLICATE_SIMILARITY = 0.9  # cosine at or above which a new fact says what a known one says
KNOWN_IN_PROMPT = 30  # known facts shown to the extractor so it does not repeat them
LOCK_TTL = 600


# --- the user's edits ---------------------------------------------------------------------------------
def _clean_text(text: Any) -> str:
    if not isinstance(text, str):
        raise AppError(_("A memory must be text."), code="invalid", details={"text": ["invalid"]})
    cleaned = " ".join(text.split())
    if not cleaned:
        raise AppError(_("A memory cannot be empty."), code="invalid", details={"text": ["blank"]})
    if len(cleaned) > MAX_MEMORY_TEXT:
        raise AppError(_("A memory may have at most %(n)d characters.") % {"n": MAX_MEMORY_TEXT}, code="invalid",
                       details={"text": ["max_length"]})
    return cleaned


@transaction.atomic
def update_memory(*, user: Any, memory_id: Any, text: Any) -> CharacterMemory:
    memory = get_memory(user=user, memory_id=memory_id)  # ownership before validation
    cleaned = _clean_text(text)
    memory.text = cleaned
    memory.embedding = embeddings.to_bytes(embeddings.embed([cleaned])[0])
    memory.embedding_model = embeddings.MODEL_NAME
    memory.save(update_fields=["text", "embedding", "embedding_model", "updated_at"])
    return memory


@transaction.atomic
def delete_memory(*, user: Any, memory_id: Any) -> None:
    get_memory(user=user, memory_id=memory_id).delete()


@transaction.atomic
def forget_all(*, user: Any, character_id: Any) -> int:
    """Delete every fact this character keeps about the user; returns how many."""
    character = character_for_memories(user=user, character_id=character_id)
    deleted, _detail = CharacterMemory.objects.filter(user=user, character=character).delete()
    return deleted


@transaction.atomic
def set_memory_enabled(*, user: Any, character_id: Any, enabled: bool) -> bool:
    """Turn memory on or off for one character. Off deletes every fact and marks all messages so
    far as read, so nothing said before or while it is off is ever extracted."""
    character = character_for_memories(user=user, character_id=character_id)
    MemorySetting.objects.update_or_create(user=user, character=character, defaults={"enabled": bool(enabled)})
    if not enabled:
        CharacterMemory.objects.filter(user=user, character=character).delete()
        skip_unread(user_id=user.pk, character_id=character.pk)
    return bool(enabled)


def skip_unread(*, user_id: Any, character_id: Any, conversation_id: Any = None) -> None:
    """Mark the messages so far as read for memories without reading them (memory is off)."""
    conversations = Conversation.objects.filter(user_id=user_id, character_id=character_id)
    if conversation_id is not None:
        conversations = conversations.filter(pk=conversation_id)
    for conv_id, last_seq in conversations.annotate(last_seq=Max("messages__seq")).values_list("pk", "last_seq"):
        Conversation.objects.filter(pk=conv_id, memories_through_seq__lt=last_seq or 0).update(memories_through_seq=last_seq or 0)


# --- scheduling (chat.turns queues the task; the task re-queues itself while not idle) ------------------
def idle_seconds() -> int:
    return int(getattr(settings, "MEMORY_IDLE_SECONDS", 300))


def _lock_key(conversation_id: Any) -> str:
    return f"chat:memory-extract:{conversation_id}"


def claim_extraction_lock(conversation_id: Any, countdown: float) -> bool:
    """One queued extraction per conversation; it re-checks the idle time when it runs."""
    return bool(cache.add(_lock_key(conversation_id), 1, timeout=int(countdown) + LOCK_TTL))


def release_extraction_lock(conversation_id: Any) -> None:
    cache.delete(_lock_key(conversation_id))


def wants_extraction(*, conversation_id: Any) -> bool:
    """After a stored reply: whether to queue extraction. With memory off, the exchange is marked
    read instead, so it is never extracted."""
    conversation = Conversation.objects.filter(pk=conversation_id).values("user_id", "character_id").first()
    if conversation is None:
        return False
    if not memory_enabled(user_id=conversation["user_id"], character_id=conversation["character_id"]):
        skip_unread(user_id=conversation["user_id"], character_id=conversation["character_id"], conversation_id=conversation_id)
        return False
    return True


# --- extraction ---------------------------------------------------------------------------------------
def extract_memories(*, conversation_id: Any) -> tuple[int, float | None]:
    """Background: read the conversation's unread messages for facts about the user once it has
    been idle long enough. Returns (facts stored or refreshed, None) or (0, seconds to wait)
    when the conversation is still going on."""
    release_extraction_lock(conversation_id)
    conversation = Conversation.objects.select_related("character", "user").filter(pk=conversation_id).first()
    if conversation is None:
        return 0, None
    idle = idle_seconds()
    if conversation.last_message_at is not None:
        quiet_since = timezone.now() - conversation.last_message_at
        if quiet_since < timedelta(seconds=idle):
            return 0, idle - quiet_since.total_seconds() + 1
    if not memory_enabled(user_id=conversation.user_id, character_id=conversation.character_id):
        skip_unread(user_id=conversation.user_id, character_id=conversation.character_id, conversation_id=conversation.pk)
        return 0, None
    rows = list(
        Message.objects.filter(conversation=conversation, seq__gt=conversation.memories_through_seq,
                               status__in=(Message.Status.COMPLETE, Message.Status.CANCELLED))
        .exclude(text="").order_by("seq")
    )
    if not any(m.role == Message.Role.USER for m in rows):
        return 0, None
    last_seq = rows[-1].seq
    user_name = conversation.user_name or conversation.user.name
    model = conversation.model_name or None
    transcript = _transcript(rows, user_name=user_name, character_name=conversation.character.name,
                             limit=extraction.transcript_budget(model))
    known = list(
        CharacterMemory.objects.filter(user_id=conversation.user_id, character_id=conversation.character_id)
        .order_by("-updated_at").values_list("text", flat=True)[:KNOWN_IN_PROMPT]
    )
    facts = extraction.extract_facts(model=model, user_name=user_name, character_name=conversation.character.name,
                                     transcript=transcript, known=known)
    return store_facts(conversation_id=conversation.pk, facts=facts, through_seq=last_seq), None


def _transcript(rows: list[Message], *, user_name: str, character_name: str, limit: int) -> str:
    lines = [f"{user_name if m.role == Message.Role.USER else character_name}: {m.text.strip()}" for m in rows]
    text = "\n".join(lines)
    tokens = encoding().encode(text, disallowed_special=())
    # Too long: keep the newest part (older parts were offered to earlier runs' budgets).
    return text if len(tokens) <= limit else encoding().decode(tokens[-limit:])


@transaction.atomic
def store_facts(*, conversation_id: Any, facts: list[str], through_seq: int) -> int:
    """Store new facts: a near-duplicate of a known fact only refreshes it; past MAX_MEMORIES the
    oldest go. Re-checks the switch under the conversation's lock: memory turned off while the
    model was answering keeps nothing."""
    conversation = Conversation.objects.select_for_update().filter(pk=conversation_id).first()
    if conversation is None or conversation.memories_through_seq >= through_seq:
        return 0  # deleted, or another run (or memory off) covered these messages meanwhile
    user_id, character_id = conversation.user_id, conversation.character_id
    if not memory_enabled(user_id=user_id, character_id=character_id):
        return 0
    Conversation.objects.filter(pk=conversation.pk).update(memories_through_seq=through_seq)
    if not facts:
        return 0
    existing = list(CharacterMemory.objects.filter(user_id=user_id, character_id=character_id))
    known_vectors = vectors_for(existing)
    new_vectors = embeddings.embed(facts)
    stored = 0
    now = timezone.now()
    for fact, vector in zip(facts, new_vectors, strict=True):
        same_text = next((m for m in existing if m.text.casefold() == fact.casefold()), None)
        similarity = known_vectors @ vector if len(existing) else np.zeros(0)
        duplicate = same_text
        if duplicate is None and similarity.size and float(similarity.max()) >= DUPLICATE_SIMILARITY:
            duplicate = existing[int(similarity.argmax())]
        if duplicate is not None:
            # Said again: keep the (possibly user-edited) wording, make it recent.
            CharacterMemory.objects.filter(pk=duplicate.pk).update(updated_at=now)
        else:
            memory = CharacterMemory.objects.create(
                user_id=user_id, character_id=character_id, text=fact, embedding=embeddings.to_bytes(vector),
                embedding_model=embeddings.MODEL_NAME, source_conversation=conversation,
            )
            existing.append(memory)
            known_vectors = np.vstack([known_vectors, vector[None, :]])
        stored += 1
    overflow = CharacterMemory.objects.filter(user_id=user_id, character_id=character_id).order_by("-updated_at", "-id")
    stale = list(overflow.values_list("pk", flat=True)[MAX_MEMORIES:])
    if stale:
        CharacterMemory.objects.filter(pk__in=stale).delete()
    return stored
