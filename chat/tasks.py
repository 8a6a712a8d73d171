"""Background work of chat: summaries of long conversations (take ids, call one service)."""
from __future__ import annotations

from celery import shared_task

from avatarforge.errors import AppError

from . import services


@shared_task(bind=True, name="chat.summarize_conversation", max_retries=3, default_retry_delay=20, acks_late=True)
def summarize_conversation(self, conversation_id: str) -> int:
    try:
        return services.summarize_conversation(conversation_id=conversation_id)
    except AppError as exc:
        # The model is down or busy: try again later; replies meanwhile use the sliding window.
        if getattr(exc, "transient", False):
            raise self.retry(exc=exc) from exc
        raise
