"""How many messages a user may send, one budget for the REST API and the WebSocket.

Both paths take from the same counter, so a client cannot send through the socket what the API
would refuse. A sliding window of send times per user in the shared cache (Redis in production),
like DRF's throttles, without needing a request object.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache


@dataclass(frozen=True)
class Rate:
    scope: str
    count: int  # sends allowed ...
    seconds: int  # ... per this many seconds


CHAT_SEND = Rate("chat_send", 60, 60)
# Stories (chat.stories): each takes a model slot for up to a minute or two, so far fewer.
STORY_GENERATE = Rate("story_generate", 10, 600)


def take(rate: Rate, *, user_id: Any) -> float | None:
    """Take one send from the user's budget: None when allowed, else seconds until one frees up."""
    key = f"ratelimit:{rate.scope}:{user_id}"
    now = time.time()
    history = [t for t in cache.get(key, []) if t > now - rate.seconds]  # newest first
    if len(history) >= rate.count:
        return max(1.0, history[-1] + rate.seconds - now)
    cache.set(key, [now, *history], rate.seconds)
    return None


def take_chat_send(*, user_id: Any) -> float | None:
    """The chat send budget (read at call time, so tests and settings can change CHAT_SEND)."""
    return take(CHAT_SEND, user_id=user_id)


def take_story(*, user_id: Any) -> float | None:
    """The story budget, one for POST /api/story/generate and the /ws/story/ socket."""
    return take(STORY_GENERATE, user_id=user_id)
