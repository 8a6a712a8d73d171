"""The one chat turn engine: a character answers one message, for every channel that asks.

    start (rows + limits) -> a model slot (wait in the fair queue, or refuse at once)
    -> build the prompt ONCE -> stream tokens, reading the emotion -> store the outcome
    -> schedule a summary after commit when the memory needs one.

`run_turn` reports through a `TurnListener` (accepted, queued, start, emotion, token, done,
cancelled, error); the WebSocket consumer turns those into frames, the REST API (`reply_sync`)
only keeps the result, voice and live mode will speak them. A listener that fails (a closed
socket) never breaks the turn: its outcome is stored anyway.

Stopping: set `TurnRequest.cancel` (an asyncio.Event) from anywhere in the loop. It is checked
between tokens and also interrupts a wait for a slot or for the first token; the upstream stream
is closed, which makes vLLM / llama.cpp stop generating, the slot is freed and what was written
is stored as `cancelled`. Cancelling the task itself (a closed socket) does the same and then
propagates the CancelledError.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from django.db import close_old_connections, connection, transaction
from django.utils.translation import gettext as _

from avatarforge.errors import AppError, TooManyRequests
from inference import llm, slots
from inference.gpu.hold import hold_mode
from inference.llm.loops import LoopDetector

from . import memory, services, tasks
from .emotions import EMOTION_PREFIX, NEUTRAL, EmotionStreamParser
from .memories import services as memory_services
from .models import Conversation, Message
from .selectors import get_conversation

# error_code of a complete reply that the loop detector (inference.llm.LoopDetector) ended: its
# text stops before the repetition, and the page notes that it was cut.
REPLY_CUT_LOOP = "reply_loop_cut"

logger = logging.getLogger(__name__)


# --- the turn's shapes --------------------------------------------------------------------------
@dataclass(frozen=True)
class TurnRequest:
    user: Any
    conversation_id: Any
    text: str
    model_name: str | None = None
    # True: wait in the model's fair queue (positions reported). False: refuse with 429
    # `model_busy` before anything is written when no slot is free (the REST API).
    wait_for_slot: bool = True
    # False: a failed turn leaves nothing behind even if some text streamed (the REST API,
    # whose caller keeps its message and gets only the error).
    keep_partial: bool = True
    cancel: asyncio.Event | None = None
    # Extra system context for this turn only (live mode: recent stream chat, what the character
    # remembers of these viewers). Goes into the prompt, never into the stored history.
    context: str = ""
    # False: the character's memories of this user stay out of the prompt and nothing is
    # extracted from the turn (live mode, where the audience is not the user).
    memories: bool = True


@dataclass
class TurnResult:
    status: str  # Message.Status COMPLETE / CANCELLED / FAILED, or "refused" (nothing written)
    user_message: Message | None = None
    reply: Message | None = None  # the stored reply; None when nothing was kept
    error: AppError | None = None
    raw_text: str = ""  # the model's text as it came, emotion tag included (diagnostics, bench)


class TurnListener:
    """What a channel hears of a turn. Override what you need; every method is optional."""

    async def on_accepted(self, user_message: Message, reply: Message, model: llm.ModelConfig) -> None: ...

    async def on_queued(self, reply_id: int, position: int) -> None: ...

    async def on_start(self, reply_id: int, queue_ms: int, prompt_tokens: int) -> None: ...

    async def on_emotion(self, reply_id: int, emotion: str) -> None: ...

    async def on_token(self, reply_id: int, text: str) -> None: ...

    async def on_done(self, reply: Message) -> None: ...

    async def on_cancelled(self, reply_id: int, reply: Message | None) -> None: ...

    async def on_error(self, error: AppError, *, reply_id: int | None, returned_text: str | None) -> None:
        """`reply_id` is None when the turn never started; `returned_text` is the user's message
        when the exchange was removed (the client should offer it again)."""


# --- database calls from the loop ----------------------------------------------------------------
class _Db(SyncToAsync):
    """channels' database_sync_to_async, except inside an open transaction: closing "old"
    connections there would throw the caller's transaction away (the REST path runs the turn
    from a request thread, tests inside their test transaction)."""

    def __init__(self, func: Any) -> None:
        super().__init__(func, thread_sensitive=True)

    def thread_handler(self, loop: Any, *args: Any, **kwargs: Any) -> Any:
        managed = connection.in_atomic_block
        if not managed:
            close_old_connections()
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            if not managed:
                close_old_connections()


def _db(func: Any) -> Any:
    return _Db(func)


# --- the turn -------------------------------------------------------------------------------------
async def run_turn(request: TurnRequest, listener: TurnListener | None = None) -> TurnResult:
    """Run one turn to its end and return how it ended; AppErrors are reported, not raised."""
    listener = listener or TurnListener()
    try:
        cfg = await _db(_model_of)(request)
        # A model on a switching GPU host: wait for its mode first and hold it for the whole turn
        # (before the slot: a switch away from chat waits for the slots in flight to drain).
        # The turn itself reports its AppErrors, so one raised here is the GPU host's (503/507).
        async with hold_mode(cfg.gpu_mode):
            return await _run_turn_in_mode(request, listener, cfg)
    except AppError as exc:
        await _notify(listener.on_error(exc, reply_id=None, returned_text=None))
        return TurnResult(status="refused", error=exc)


def _model_of(request: TurnRequest) -> llm.ModelConfig:
    conversation = get_conversation(user=request.user, conversation_id=request.conversation_id)
    return llm.get_model(request.model_name or conversation.model_name or None)


async def _run_turn_in_mode(request: TurnRequest, listener: TurnListener, cfg: llm.ModelConfig) -> TurnResult:
    slot: slots.Slot | None = None
    if not request.wait_for_slot:
        try:
            slot = await _take_free_slot(cfg)
        except AppError as exc:
            await _notify(listener.on_error(exc, reply_id=None, returned_text=None))
            return TurnResult(status="refused", error=exc)
    try:
        user_message, reply = await _db(services.start_reply)(
            user=request.user, conversation_id=request.conversation_id, text=request.text, model_name=request.model_name,
        )
    except BaseException as exc:
        if slot is not None:
            await asyncio.shield(slot.release())
        if not isinstance(exc, AppError):
            raise
        await _notify(listener.on_error(exc, reply_id=None, returned_text=None))
        return TurnResult(status="refused", error=exc)
    cfg = llm.get_model(reply.model_name)
    await _notify(listener.on_accepted(user_message, reply, cfg))
    return await _Turn(request, listener, cfg, user_message, reply, slot).run()


async def _take_free_slot(cfg: llm.ModelConfig) -> slots.Slot:
    slot = await slots.atry_acquire(cfg.pool, cfg.max_concurrency)
    if slot is None:
        stats = await slots.astats(cfg.pool)
        retry_after = slots.retry_after_seconds(stats, cfg.max_concurrency)
        raise TooManyRequests(
            _("All %(n)d slots of this model are busy. Try again in %(s)d seconds, or use the WebSocket to wait in line.")
            % {"n": cfg.max_concurrency, "s": retry_after},
            code="model_busy", retry_after=retry_after,
            details={"retry_after": retry_after, "waiting": stats.waiting, "in_flight": stats.in_flight},
        )
    return slot


class _Turn:
    """The state of one started turn (rows exist); `run` always stores an outcome."""

    def __init__(self, request: TurnRequest, listener: TurnListener, cfg: llm.ModelConfig, user_message: Message,
                 reply: Message, slot: slots.Slot | None) -> None:
        self.request, self.listener, self.cfg = request, listener, cfg
        self.user_message, self.reply, self.slot = user_message, reply, slot
        self.parser = EmotionStreamParser()
        self.loops = LoopDetector()
        self.cut = False  # the loop detector ended the reply
        self.emotion_sent = False
        self.started = time.monotonic()
        self.queue_ms: int | None = None
        self.ttft_ms: int | None = None
        self.prompt_tokens: int | None = None
        self.completion_tokens: int | None = None
        self.plan: memory.PromptPlan | None = None
        self.finishing = False

    async def run(self) -> TurnResult:
        status, error = Message.Status.COMPLETE, None
        watcher = self._watch_cancel()
        try:
            await self._answer()
        except asyncio.CancelledError:
            status = Message.Status.CANCELLED
            if not self._cancel_requested():
                raise  # the task itself was cancelled (closed socket): store, then propagate
            asyncio.current_task().uncancel()  # our own stop request: the turn ends normally
        except AppError as exc:
            status, error = Message.Status.FAILED, exc
        except Exception as exc:  # a bug must not leave the reply "streaming" forever
            logger.exception("reply %s failed", self.reply.pk)
            status = Message.Status.FAILED
            error = AppError(_("Something went wrong on our side. Please try again."), code="server_error", status=500)
            error.__cause__ = exc
        finally:
            self.finishing = True
            if watcher is not None:
                watcher.cancel()
            if status == Message.Status.COMPLETE and self._cancel_requested():
                status = Message.Status.CANCELLED  # stopped between tokens
            if self.slot is not None:
                await asyncio.shield(self.slot.release())
            # Store the outcome even when cancelled (shielded: the task may be cancelled again).
            result = await asyncio.shield(self._store(status, error))
        return result

    def _cancel_requested(self) -> bool:
        return self.request.cancel is not None and self.request.cancel.is_set()

    def _watch_cancel(self) -> asyncio.Task | None:
        """Interrupts waits (queue, first token) when the cancel event is set; between tokens
        the stream loop checks the event itself."""
        if self.request.cancel is None:
            return None
        task = asyncio.current_task()
        watcher = asyncio.ensure_future(self.request.cancel.wait())

        def interrupt(done: asyncio.Future) -> None:
            # Once the turn stores its outcome, a late stop must not cut the (shielded) storing.
            if not done.cancelled() and not self.finishing and task is not None and not task.done():
                task.cancel()

        watcher.add_done_callback(interrupt)
        return watcher

    async def _answer(self) -> None:
        reply_id = self.reply.pk
        if self.slot is None:
            self.slot = await self._wait_for_slot()
        self.queue_ms = int((time.monotonic() - self.started) * 1000)
        self.plan = await _db(_build_prompt)(self.request.conversation_id, self.cfg, self.user_message.seq, self.request.context,
                                             self.request.memories)
        self.prompt_tokens = self.plan.prompt_tokens
        await _db(services.mark_streaming)(message_id=reply_id, queue_ms=self.queue_ms)
        await _notify(self.listener.on_start(reply_id, self.queue_ms, self.plan.prompt_tokens))
        requested = time.monotonic()
        stream_events = llm.stream_chat(model=self.cfg.name, messages=self.plan.messages, max_tokens=self.cfg.reply_tokens,
                                        prefix=EMOTION_PREFIX)
        async with contextlib.aclosing(stream_events) as stream:
            async for event in stream:
                if event.done:
                    self.completion_tokens = event.completion_tokens
                    if event.prompt_tokens:
                        self.prompt_tokens = event.prompt_tokens
                    break
                if self.ttft_ms is None:
                    self.ttft_ms = int((time.monotonic() - requested) * 1000)
                visible = self.parser.feed(event.text)
                if self.parser.emotion and not self.emotion_sent:
                    await self._send_emotion(self.parser.emotion)
                if visible:
                    await _notify(self.listener.on_token(reply_id, visible))
                    if self.loops.feed(visible):
                        # The model repeats itself: stop it (leaving the block closes the
                        # upstream stream) and keep the reply up to the repetition.
                        self.cut = True
                        break
                if self._cancel_requested():
                    return  # leaving the block closes the upstream stream: generation stops
        tail = "" if self.cut else self.parser.finish()
        if not self.emotion_sent:
            await self._send_emotion(self.parser.emotion or NEUTRAL)
        if tail:
            await _notify(self.listener.on_token(reply_id, tail))

    def _final_text(self) -> str:
        # A reply cut by the loop detector ends before its repetition; the done event carries
        # this text, which replaces what the client streamed.
        return self.loops.kept_text().strip() if self.cut else self.parser.text

    async def _send_emotion(self, emotion: str) -> None:
        self.emotion_sent = True
        await _notify(self.listener.on_emotion(self.reply.pk, emotion))

    async def _wait_for_slot(self) -> slots.Slot:
        async def on_position(position: int) -> None:
            await _notify(self.listener.on_queued(self.reply.pk, position))

        try:
            return await slots.acquire(self.cfg.pool, self.cfg.max_concurrency, on_position=on_position)
        except slots.QueueFull:
            stats = await slots.astats(self.cfg.pool)
            retry_after = slots.retry_after_seconds(stats, self.cfg.max_concurrency)
            raise TooManyRequests(
                _("Too many people are talking to this model right now. Try again in %(s)d seconds.") % {"s": retry_after},
                code="model_busy", retry_after=retry_after, details={"retry_after": retry_after},
            ) from None

    async def _store(self, status: str, error: AppError | None) -> TurnResult:
        reply_id = self.reply.pk
        final = None
        discard = status == Message.Status.FAILED and (not self.parser.text.strip() or not self.request.keep_partial)
        if discard:
            # Nothing (worth) keeping: remove the exchange; the caller hands the text back.
            await _db(services.discard_reply)(user_message_id=self.user_message.pk, reply_id=reply_id)
        else:
            final = await _db(services.finish_reply)(
                message_id=reply_id, text=self._final_text(), emotion=self.parser.emotion, status=status,
                error_code=error.code if error else (REPLY_CUT_LOOP if self.cut else ""), ttft_ms=self.ttft_ms,
                duration_ms=int((time.monotonic() - self.started) * 1000), queue_ms=self.queue_ms,
                prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens,
            )
        if final is not None and self.plan is not None:
            try:
                await _db(schedule_summary_if_needed)(conversation_id=self.reply.conversation_id, plan=self.plan,
                                                      reply_tokens=final.token_count)
            except Exception:  # the reply is stored; a summary can wait for the next one
                logger.exception("could not schedule a summary for %s", self.reply.conversation_id)
            if self.request.memories:
                try:
                    await _db(schedule_memory_extraction)(conversation_id=self.reply.conversation_id)
                except Exception:  # the reply is stored; the next reply schedules again
                    logger.exception("could not schedule memory extraction for %s", self.reply.conversation_id)
        if status == Message.Status.COMPLETE:
            await _notify(self.listener.on_done(final))
        elif status == Message.Status.CANCELLED:
            await _notify(self.listener.on_cancelled(reply_id, final))
        elif error is not None:
            await _notify(self.listener.on_error(error, reply_id=reply_id, returned_text=self.user_message.text if final is None else None))
        return TurnResult(status=status, user_message=self.user_message, reply=final, error=error, raw_text=self.parser.raw)


def _build_prompt(conversation_id: Any, cfg: llm.ModelConfig, upto_seq: int, context: str = "",
                  memories: bool = True) -> memory.PromptPlan:
    conversation = Conversation.objects.select_related("character", "user").get(pk=conversation_id)
    return memory.build_prompt(conversation, cfg=cfg, upto_seq=upto_seq, context=context, memories=memories)


async def _notify(call: Any) -> None:
    try:
        await call
    except Exception:  # the socket closed; the turn's outcome is stored anyway
        logger.debug("a turn listener failed", exc_info=True)


# --- summaries ------------------------------------------------------------------------------------
def schedule_summary_if_needed(*, conversation_id: Any, plan: memory.PromptPlan, reply_tokens: int) -> bool:
    """Queue a background summary (after commit) when the history, with the stored reply, passed
    its threshold. Uses the turn's prompt plan: the prompt is built once per turn."""
    if not plan.needs_summary(extra_tokens=reply_tokens + memory.MESSAGE_COST):
        return False
    with transaction.atomic():
        return schedule_summary(conversation_id)


def schedule_summary(conversation_id: Any) -> bool:
    """Queue a background summary after the current transaction commits (once at a time)."""
    if not memory.claim_summary_lock(conversation_id):
        return False

    def enqueue() -> None:
        try:
            tasks.summarize_conversation.delay(str(conversation_id))
        except Exception:  # broker down: release the lock so a later reply retries
            memory.release_summary_lock(conversation_id)
            logger.exception("could not queue the summary of conversation %s", conversation_id)

    transaction.on_commit(enqueue)
    return True


# --- memories across conversations -----------------------------------------------------------------
def schedule_memory_extraction(*, conversation_id: Any) -> bool:
    """Queue reading the conversation for facts about the user once it goes idle (after commit,
    once at a time); with memory off, mark the exchange read instead (chat.memories)."""
    if not memory_services.wants_extraction(conversation_id=conversation_id):
        return False
    countdown = memory_services.idle_seconds()
    if not memory_services.claim_extraction_lock(conversation_id, countdown):
        return False

    def enqueue() -> None:
        try:
            tasks.extract_memories.apply_async(args=[str(conversation_id)], countdown=countdown)
        except Exception:  # broker down: release the lock so a later reply retries
            memory_services.release_extraction_lock(conversation_id)
            logger.exception("could not queue memory extraction of conversation %s", conversation_id)

    with transaction.atomic():
        transaction.on_commit(enqueue)
    return True


# --- the REST API's turn ----------------------------------------------------------------------------
def reply_sync(*, user: Any, conversation_id: Any, text: str, model_name: str | None = None) -> tuple[Message, Message]:
    """The REST API's turn: no waiting in the queue (429 with Retry-After when the model is busy),
    nothing kept when it fails. Same rows, limits and memory as the WebSocket. Raises AppError."""
    result = async_to_sync(run_turn)(TurnRequest(
        user=user, conversation_id=conversation_id, text=text, model_name=model_name, wait_for_slot=False, keep_partial=False,
    ))
    if result.error is not None:
        raise result.error
    assert result.user_message is not None and result.reply is not None
    return result.user_message, result.reply
