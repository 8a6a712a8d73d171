"""The one retry loop of model calls, shared by `complete` (sync) and `stream_chat` (async).

    for attempt in attempts(cfg):
        with attempt:
            return call()          # success leaves the loop
        time.sleep(attempt.delay)  # or: await asyncio.sleep(attempt.delay)

`with attempt` translates a failure into an LLMError and either re-raises it (not transient, out
of retries, an upstream asking to wait longer than a person would, or `attempt.final()` was
called because a stream already showed text) or swallows it and sets `delay` (exponential
backoff with jitter, at least the upstream's Retry-After). Only the sleep differs between callers.
"""
from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from types import TracebackType

from .config import ModelConfig
from .errors import LLMError, translate_error

logger = logging.getLogger("inference.llm")

MAX_RETRIES = 3
RETRY_BASE_DELAY = 0.25  # seconds; doubled each retry, with jitter (tests lower it)
RETRY_MAX_DELAY = 8.0  # an upstream's Retry-After longer than this is not waited for


class Attempt:
    def __init__(self, cfg: ModelConfig, number: int) -> None:
        self.cfg = cfg
        self.number = number  # 0 = the first try; also "retries so far"
        self.delay = 0.0
        self._final = False

    def final(self) -> None:
        """No retry after this point (a stream sent its first token: the person sees text)."""
        self._final = True

    def __enter__(self) -> Attempt:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False  # success, or cancellation / generator close: never swallowed
        error = translate_error(exc, self.cfg)  # re-raises what is not a model failure (a bug)
        if self._final or not _should_retry(self.number, error):
            if error is exc:
                return False
            raise error from exc
        self.delay = _backoff(self.number, error)
        logger.warning("LLM %s: %s, retry %d in %.2fs", self.cfg.name, error.code, self.number + 1, self.delay)
        return True


def attempts(cfg: ModelConfig) -> Iterator[Attempt]:
    """Attempts until the caller leaves the loop (success) or `with attempt` raises (given up)."""
    number = 0
    while True:
        yield Attempt(cfg, number)
        number += 1


def _backoff(attempt: int, error: LLMError) -> float:
    delay = RETRY_BASE_DELAY * (2 ** attempt) * (0.8 + 0.4 * random.random())
    if error.retry_after is not None:
        delay = max(delay, error.retry_after)
    return delay


def _should_retry(attempt: int, error: LLMError) -> bool:
    if not error.transient or attempt >= MAX_RETRIES:
        return False
    # An upstream asking us to wait longer than we would keep a person waiting: give up now.
    return error.retry_after is None or error.retry_after <= RETRY_MAX_DELAY
