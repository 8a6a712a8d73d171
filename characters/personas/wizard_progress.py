"""What a running wizard generation is writing now, and the person's "cancel", shared through the
cache between the request that generates (it can take minutes on a small model) and the page
that polls `GET /api/characters/wizard/progress/<id>` (and `DELETE`s it to cancel).

The page picks a random progress id and sends it with the form; keys carry the user's id, so one
person can neither read nor cancel another's generation (an unknown id is a 404 either way).
"""
from __future__ import annotations

import re
import time
import uuid
from typing import Any

from django.core.cache import cache
from django.utils.translation import gettext as _

from avatarforge.errors import AppError, NotFound

from .wizard import GENERATED_FIELDS

TTL_S = 30 * 60  # longer than any generation's budget
WRITE_EVERY_S = 0.4  # the page polls about once a second; the cache is not written per token
_FIELD_KEY = re.compile('"(' + "|".join(GENERATED_FIELDS) + r')"\s*:')


def _key(user_id: Any, progress_id: uuid.UUID) -> str:
    return f"wizard:progress:{user_id}:{progress_id}"


def read(*, user_id: Any, progress_id: uuid.UUID) -> dict[str, Any]:
    state = cache.get(_key(user_id, progress_id))
    if state is None:
        raise NotFound(_("No generation with this progress id is running."), code="not_found")
    return state


def cancel(*, user_id: Any, progress_id: uuid.UUID) -> dict[str, Any]:
    state = read(user_id=user_id, progress_id=progress_id)
    state = {**state, "cancelled": True}
    cache.set(_key(user_id, progress_id), state, TTL_S)
    return state


def cancelled_error() -> AppError:
    return AppError(_("Generation cancelled. Nothing was saved."), code="wizard_cancelled", status=409)


class Progress:
    """Fed the model's text as it streams; records the field being written and stops the stream
    (by raising) when the person cancelled or the time budget ran out."""

    def __init__(self, *, user_id: Any, progress_id: uuid.UUID | None, budget_s: float) -> None:
        self.key = _key(user_id, progress_id) if progress_id else None
        self.deadline = time.monotonic() + budget_s
        self.budget_s = budget_s
        self.text = ""
        self.tokens = 0
        self.attempt = 0
        self._written = 0.0
        if self.key:
            cache.set(self.key, self._state(), TTL_S)

    def new_try(self) -> None:
        """The model is asked again (its last answer was refused): the fields start over."""
        self.text, self.tokens, self.attempt = "", 0, self.attempt + 1
        self.deadline = time.monotonic() + self.budget_s
        self._write(force=True)

    def _state(self) -> dict[str, Any]:
        seen = _FIELD_KEY.findall(self.text)
        current = seen[-1] if seen else None
        return {"field": current, "done": max(0, len(set(seen)) - 1), "total": len(GENERATED_FIELDS),
                "tokens": self.tokens, "attempt": max(self.attempt, 1), "cancelled": False}

    def _write(self, *, force: bool = False) -> None:
        if not self.key:
            return
        now = time.monotonic()
        if not force and now - self._written < WRITE_EVERY_S:
            return
        self._written = now
        # Read before writing: a cancel that arrived in between must not be overwritten.
        if (cache.get(self.key) or {}).get("cancelled"):
            raise cancelled_error()
        cache.set(self.key, self._state(), TTL_S)

    def on_text(self, piece: str) -> None:
        self.text += piece
        self.tokens += 1
        if time.monotonic() > self.deadline:
            raise AppError(_("The language model took too long to write the character. Try again, or write the fields yourself."),
                           code="llm_timeout", status=504, details={"budget_s": round(self.budget_s)})
        self._write()

    def finish(self) -> None:
        if self.key:
            cache.delete(self.key)
