"""Background work of chat: summaries of long conversations, memories across conversations (take
ids, call one service)."""
from __future__ import annotations

from celery import shared_task

from avatarforge.errors import AppError

from . import services
from .memories import services as memory_services


@shared_task(bind=True, name="chat.summarize_conversation", max_retries=3, default_retry_delay=20, acks_late=True)
def summarize_conversation(self, conversation_id: str) -> int:
    try:
        return services.summarize_conversation(conversation_id=conversation_id)
    except AppError as exc:
        # The model is down or busy: try again later; replies meanwhile use the sliding window.
        if getattr(exc, "transient", False):
            raise self.retry(exc=exc) from exc
        raise


@shared_task(bind=True, name="chat.extract_memories", max_retries=3, default_retry_delay=60, acks_late=True)
def extract_memories(self, conversation_id: str) -> int:
    """Facts about the user from an idle conversation (chat.memories.services)."""
    try:
        stored, wait = memory_services.extract_memories(conversation_id=conversation_id)
    except AppError as exc:
        # The model is down or busy: the messages stay unread, so a retry (or the next idle
        # conversation) reads them.
        if getattr(exc, "transient", False):
            raise self.retry(exc=exc) from exc
        raise
    # Still being talked in: come back when it has been idle long enough (not when run inline,
    # where a countdown is ignored and it would come back at once, forever).
    if wait is not None and not self.request.is_eager and memory_services.claim_extraction_lock(conversation_id, wait):
        extract_memories.apply_async(args=[conversation_id], countdown=wait)
    return stored
