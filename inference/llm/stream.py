"""A streamed answer, token by token (async).

Closing the generator (the caller was cancelled, the person pressed stop) closes the HTTP
response, which makes vLLM / llama.cpp abort the generation upstream. Transient failures before
the first token are retried (retry.py); after it they raise LLMError.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from typing import Any

from .client import async_client
from .completion import request_params
from .config import get_model
from .retry import attempts


@dataclass
class StreamEvent:
    """One piece of a streamed answer: text (may be empty), then a final event with `done`."""

    text: str = ""
    done: bool = False
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    retries: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def stream_chat(
    *,
    model: str | None,
    messages: list[dict],
    max_tokens: int | None = None,
    temperature: float | None = None,
) -> AsyncIterator[StreamEvent]:
    """Stream an answer. The last event has done=True (with usage if the server sent it)."""
    cfg = get_model(model)
    params = request_params(cfg, messages, max_tokens, temperature)
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
                        yield StreamEvent(text=text, retries=attempt.number)
                yield StreamEvent(
                    done=True,
                    finish_reason=finish_reason,
                    prompt_tokens=getattr(usage, "prompt_tokens", None),
                    completion_tokens=getattr(usage, "completion_tokens", None),
                    retries=attempt.number,
                )
                return
            finally:
                if stream is not None:
                    await stream.close()
        await asyncio.sleep(attempt.delay)
