"""`write_story`: one story through the LLM gateway, streamed, for the REST API and the socket.

    the person's story budget (chat.rate_limits) -> the model (GPU mode held, a free slot or 429
    `model_busy`) -> the gateway's stream, each piece to `on_token`, the loop detector watching
    -> chapters and word count (writing.py)

Cancelling the task that runs `write_story` (the socket's stop, a closed socket) closes the
gateway's stream, which closes the HTTP response: vLLM / llama.cpp stop generating. The slot is
released in every case. Nothing is stored: the result goes back to the caller.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from avatarforge.errors import AppError, TooManyRequests
from inference import llm, slots
from inference.gpu.hold import hold_mode
from inference.llm.loops import LoopDetector

from .. import rate_limits
from . import writing

# How a story ended: as the model finished it, cut by the loop detector before a repetition, or
# at the model's token cap (it may stop mid-sentence).
END_COMPLETE, END_LOOP_CUT, END_MAX_TOKENS = "complete", "loop_cut", "max_tokens"
ENDS = (END_COMPLETE, END_LOOP_CUT, END_MAX_TOKENS)

OnToken = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Story:
    story: str
    word_count: int
    chapters: list[writing.Chapter]
    end: str
    model: str
    language: str


def _check_choices(*, prompt: str, length: str, style: str) -> None:
    # The API's serializer checks these first; a caller that skipped it still cannot ask for more.
    if not prompt.strip():
        raise AppError(_("Write what the story should be about."), code="story_prompt_empty")
    if len(prompt) > writing.MAX_PROMPT_CHARS:
        raise AppError(_("The prompt may have at most %(n)d characters.") % {"n": writing.MAX_PROMPT_CHARS},
                       code="story_prompt_too_long", details={"max_length": writing.MAX_PROMPT_CHARS})
    if length not in writing.LENGTHS:
        raise AppError(_("The length must be short, medium or long."), code="story_bad_length",
                       details={"allowed": list(writing.LENGTHS)})
    if style not in writing.STYLES:
        raise AppError(_("Unknown story style."), code="story_bad_style", details={"allowed": list(writing.STYLES)})


def _take_budget(user_id: Any) -> None:
    wait = rate_limits.take_story(user_id=user_id)
    if wait is not None:
        retry_after = int(wait) + 1
        raise TooManyRequests(
            _("You have written many stories just now. Try again in %(s)d seconds.") % {"s": retry_after},
            code="rate_limited", retry_after=retry_after, details={"retry_after": retry_after},
        )


async def _free_slot(cfg: llm.ModelConfig) -> slots.Slot:
    slot = await slots.atry_acquire(cfg.pool, cfg.max_concurrency)
    if slot is None:
        stats = await slots.astats(cfg.pool)
        retry_after = slots.retry_after_seconds(stats, cfg.max_concurrency)
        raise TooManyRequests(
            _("The language model is busy with other people. Try again in %(s)d seconds.") % {"s": retry_after},
            code="model_busy", retry_after=retry_after, details={"retry_after": retry_after},
        )
    return slot


async def write_story(*, user: Any, prompt: str, length: str, style: str, model_name: str | None = None,
                      on_token: OnToken | None = None) -> Story:
    """Write one story for `user` (signed in). Raises AppError: the story_* validation codes,
    rate_limited / model_busy (429), unknown_model, the gateway's llm_* codes."""
    if user is None or not user.is_authenticated:
        raise AppError(_("Sign in to write stories."), code="not_authenticated", status=401)
    _check_choices(prompt=prompt, length=length, style=style)
    language = writing.story_language(prompt, get_language() or "en")
    cfg = llm.get_model(model_name)
    await sync_to_async(_take_budget)(user.pk)
    async with hold_mode(cfg.gpu_mode):
        slot = await _free_slot(cfg)
        try:
            return await _stream(cfg, prompt=prompt.strip(), length=length, style=style, language=language, on_token=on_token)
        finally:
            await asyncio.shield(slot.release())


async def _stream(cfg: llm.ModelConfig, *, prompt: str, length: str, style: str, language: str,
                  on_token: OnToken | None) -> Story:
    loops = LoopDetector()
    end = END_COMPLETE
    events = llm.stream_chat(
        model=cfg.name, messages=writing.build_messages(prompt=prompt, length=length, style=style, language=language),
        max_tokens=writing.max_tokens_for(length, language),
    )
    # Leaving this block (done, a loop, cancellation) closes the upstream HTTP stream.
    async with contextlib.aclosing(events) as stream:
        async for event in stream:
            if event.done:
                if event.finish_reason == "length":
                    end = END_MAX_TOKENS
                break
            if on_token is not None:
                await on_token(event.text)
            if loops.feed(event.text):
                end = END_LOOP_CUT
                break
    chapters = writing.split_chapters(loops.kept_text())
    if not chapters:
        raise AppError(_("The language model wrote no story. Try again or change the prompt."),
                       code="llm_bad_response", status=502, details={"model": cfg.name})
    return Story(
        story=writing.join_story(chapters), word_count=sum(writing.count_words(c.text) for c in chapters),
        chapters=chapters, end=end, model=cfg.name, language=language,
    )


def write_story_sync(**kwargs: Any) -> Story:
    """The REST API's call (a request thread): the same story in one piece."""
    return async_to_sync(write_story)(**kwargs)
