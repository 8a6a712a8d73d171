"""A streamed answer, token by token (async).

Closing the generator (the caller was cancelled, the person pressed stop) closes the HTTP
response, which makes vLLM / llama.cpp abort the generation upstream. Transient failures before
the first token are retried (retry.py); after it they raise LLMError.

`prefix` (a constrain.ReplyPrefix) forces the reply's start where the model's endpoint can
(ModelConfig.constrain); an endpoint that refuses the constraint (400/422) is asked again without
it, and not asked with it again by this process, so the caller's parsing takes over.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from typing import Any

from .client import async_client
from .completion import request_params
from .config import ModelConfig, get_model
from .constrain import ReplyPrefix, body_fields
from .errors import LLMError
from .retry import attempts

logger = logging.getLogger("inference.llm")

_constraint_refused: set[str] = set()  # model names whose endpoint answered 400/422 to a constraint


@dataclass
class StreamEvent:
    """One piece of a streamed answer: text (may be empty), then a final event with `done`."""

    text: str = ""
    done: bool = False
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    retries: int = 0
    constrained: bool = False  # the reply's start was enforced by the endpoint (see `prefix`)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def stream_chat(
    *,
    model: str | None,
    messages: list[dict],
    max_tokens: int | None = None,
    temperature: float | None = None,
    prefix: ReplyPrefix | None = None,
) -> AsyncIterator[StreamEvent]:
    """Stream an answer. The last event has done=True (with usage if the server sent it)."""
    cfg = get_model(model)
    params = request_params(cfg, messages, max_tokens, temperature)
    constraint = {} if cfg.name in _constraint_refused else body_fields(cfg, prefix)
    # aclosing: when our caller closes this generator, the inner one (and its HTTP response) is
    # closed at once, not whenever it is garbage-collected.
    if not constraint:
        async with contextlib.aclosing(_stream(cfg, params)) as events:
            async for event in events:
                yield event
        return
    constrained = {**params, "extra_body": {**params.get("extra_body", {}), **constraint}}
    started = False
    try:
        async with contextlib.aclosing(_stream(cfg, constrained, constrained=True)) as events:
            async for event in events:
                started = True
                yield event
        return
    except LLMError as exc:
        upstream = (exc.details or {}).get("upstream_status") if isinstance(exc.details, dict) else None
        if started or exc.code != "llm_bad_request" or upstream not in (400, 422):
            raise
    logger.warning("LLM %s refused the %s constraint: replies are parsed instead", cfg.name, cfg.constrain)
    _constraint_refused.add(cfg.name)
    async with contextlib.aclosing(_stream(cfg, params)) as events:
        async for event in events:
            yield event


async def _stream(cfg: ModelConfig, params: dict[str, Any], *, constrained: bool = False) -> AsyncIterator[StreamEvent]:
    client = async_client(cfg)
    for attempt in attempts(cfg):
        stream = None
        with attempt:
            try:
                stream = await client.chat.completions.create(**params, stream=True)
                finish_reason = None
                usage = None
                async for chunk in stream:
                    if getattr(chunk, "usage", None):
                        usage = chunk.usage
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
                    text = (choice.delta.content if choice.delta else None) or ""
                    if text:
                        attempt.final()  # the person sees text now: no retry from here on
                        yield StreamEvent(text=text, retries=attempt.number, constrained=constrained)
                yield StreamEvent(
                    done=True,
                    finish_reason=finish_reason,
                    prompt_tokens=getattr(usage, "prompt_tokens", None),
                    completion_tokens=getattr(usage, "completion_tokens", None),
                    retries=attempt.number,
                    constrained=constrained,
                )
                return
            finally:
                if stream is not None:
                    await stream.close()
        await asyncio.sleep(attempt.delay)
