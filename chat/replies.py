"""One streamed reply, from the user's message to the stored answer (used by the WebSocket).

    start_reply (rows + limits) -> wait for a model slot (fair queue, positions reported)
    -> build the prompt (never waits for a summary) -> stream tokens, reading the emotion
    -> finish_reply (text, emotion, tokens, timings) -> queue a summary if memory needs one.

Cancelling the task (stop button, closed socket, cancel from another tab through the channel
layer) closes the upstream stream, frees the slot and stores what was written as `cancelled`.
Frames sent (all JSON): accepted, queued {position}, start, emotion, token {text}, done
{message}, cancelled {message|null}, error {code, message, details}.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from django.utils.translation import gettext as _

from avatarforge.errors import AppError, TooManyRequests

from . import concurrency, gateway, memory, services
from .emotions import NEUTRAL, EmotionStreamParser
from .models import Conversation, Message
from .serializers import MessageSerializer

logger = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], Awaitable[None]]


def _serialize(message: Message | None) -> dict[str, Any] | None:
    return dict(MessageSerializer(message).data) if message is not None else None


@database_sync_to_async
def _plan(conversation_id: Any, cfg: gateway.ModelConfig, upto_seq: int) -> memory.PromptPlan:
    conversation = Conversation.objects.select_related("character", "user").get(pk=conversation_id)
    return memory.build_prompt(conversation, cfg=cfg, upto_seq=upto_seq)


async def stream_reply(*, user: Any, conversation_id: Any, text: str, model_name: str | None, send: Send) -> Message | None:
    """Run one reply, sending frames through `send`. AppErrors become error frames."""
    try:
        user_message, reply = await database_sync_to_async(services.start_reply)(
            user=user, conversation_id=conversation_id, text=text, model_name=model_name
        )
    except AppError as exc:
        await _safe_send(send, {"type": "error", **exc.as_dict()})
        return None
    cfg = gateway.get_model(reply.model_name)
    await _safe_send(send, {"type": "accepted", "user_message": _serialize(user_message), "reply_id": reply.pk, "model": cfg.name})

    parser = EmotionStreamParser()
    slot: concurrency.Slot | None = None
    emotion_sent = False
    started = time.monotonic()
    queue_ms = ttft_ms = None
    usage: dict[str, int | None] = {}
    status = Message.Status.COMPLETE
    error: AppError | None = None
    try:
        async def on_position(position: int) -> None:
            await _safe_send(send, {"type": "queued", "reply_id": reply.pk, "position": position})

        try:
            slot = await concurrency.acquire(cfg.pool, cfg.max_concurrency, on_position=on_position)
        except concurrency.QueueFull:
            stats = await database_sync_to_async(concurrency.stats)(cfg.pool)
            retry_after = concurrency.retry_after_seconds(stats, cfg.max_concurrency)
            raise TooManyRequests(
                _("Too many people are talking to this model right now. Try again in %(s)d seconds.") % {"s": retry_after},
                code="model_busy", retry_after=retry_after, details={"retry_after": retry_after},
            ) from None
        queue_ms = int((time.monotonic() - started) * 1000)
        plan = await _plan(conversation_id, cfg, user_message.seq)
        await database_sync_to_async(services.mark_streaming)(message_id=reply.pk, queue_ms=queue_ms)
        await _safe_send(send, {"type": "start", "reply_id": reply.pk, "queue_ms": queue_ms, "prompt_tokens": plan.prompt_tokens})
        requested = time.monotonic()
        usage["prompt_tokens"] = plan.prompt_tokens
        async for event in gateway.stream_chat(model=cfg.name, messages=plan.messages):
            if event.done:
                usage["completion_tokens"] = event.completion_tokens
                if event.prompt_tokens:
                    usage["prompt_tokens"] = event.prompt_tokens
                break
            if ttft_ms is None:
                ttft_ms = int((time.monotonic() - requested) * 1000)
            visible = parser.feed(event.text)
            if parser.emotion and not emotion_sent:
                emotion_sent = True
                await _safe_send(send, {"type": "emotion", "reply_id": reply.pk, "emotion": parser.emotion})
            if visible:
                await _safe_send(send, {"type": "token", "reply_id": reply.pk, "text": visible})
        tail = parser.finish()
        if not emotion_sent:
            emotion_sent = True
            await _safe_send(send, {"type": "emotion", "reply_id": reply.pk, "emotion": parser.emotion or NEUTRAL})
        if tail:
            await _safe_send(send, {"type": "token", "reply_id": reply.pk, "text": tail})
    except asyncio.CancelledError:
        status = Message.Status.CANCELLED
        raise
    except AppError as exc:
        status = Message.Status.FAILED
        error = exc
    except Exception as exc:  # a bug must not leave the reply "streaming" forever
        logger.exception("reply %s failed", reply.pk)
        status = Message.Status.FAILED
        error = AppError(_("Something went wrong on our side. Please try again."), code="server_error", status=500)
        error.__cause__ = exc
    finally:
        if slot is not None:
            await asyncio.shield(slot.release())
        # Store the outcome even when cancelled (shielded: the task may be cancelled again).
        final = await asyncio.shield(_finish(
            reply=reply, user_message=user_message, parser=parser, status=status, error=error, queue_ms=queue_ms,
            ttft_ms=ttft_ms, duration_ms=int((time.monotonic() - started) * 1000), usage=usage,
        ))
        if status == Message.Status.COMPLETE:
            await _safe_send(send, {"type": "done", "message": _serialize(final)})
        elif status == Message.Status.CANCELLED:
            await _safe_send(send, {"type": "cancelled", "reply_id": reply.pk, "message": _serialize(final)})
        elif error is not None:
            details = error.details if isinstance(error.details, dict) else {"detail": error.details}
            await _safe_send(send, {"type": "error", **error.as_dict(), "details": {**(details or {}), "reply_id": reply.pk,
                                                                              "text": user_message.text if final is None else None}})
    return final


async def _finish(*, reply: Message, user_message: Message, parser: EmotionStreamParser, status: str, error: AppError | None,
                  queue_ms: int | None, ttft_ms: int | None, duration_ms: int, usage: dict[str, int | None]) -> Message | None:
    text = parser.text
    if status == Message.Status.FAILED and not text.strip():
        # The model said nothing: remove the exchange; the error frame hands the text back.
        await database_sync_to_async(services.discard_reply)(user_message_id=user_message.pk, reply_id=reply.pk)
        return None
    final = await database_sync_to_async(services.finish_reply)(
        message_id=reply.pk, text=text, emotion=parser.emotion, status=status, error_code=error.code if error else "",
        ttft_ms=ttft_ms, duration_ms=duration_ms, queue_ms=queue_ms, prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
    )
    if final is not None:
        try:
            await database_sync_to_async(services.maybe_summarize)(conversation_id=reply.conversation_id, model_name=reply.model_name)
        except Exception:  # the reply is stored; a summary can wait for the next one
            logger.exception("could not schedule a summary for %s", reply.conversation_id)
    return final


async def _safe_send(send: Send, frame: dict[str, Any]) -> None:
    try:
        await send(frame)
    except Exception:  # the socket closed; the reply's outcome is stored anyway
        logger.debug("could not send %s frame", frame.get("type"))
