"""Which plan limit each app's resources count against, and how to count them.

Apps register a counter in AppConfig.ready(), so accounts never imports them: for example
characters registers ("avatar_slots", "avatars", count of the user's avatars).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise


@dataclass(frozen=True)
class Counter:
    limit: str  # a Plan field name
    label: str | Promise
    count: Callable[[int], int]  # user id -> used


_counters: dict[str, Counter] = {}


def register_counter(limit: str, label: str | Promise, count: Callable[[int], int]) -> None:
    _counters[limit] = Counter(limit=limit, label=label, count=count)


def counter(limit: str) -> Counter:
    try:
        return _counters[limit]
    except KeyError:
        raise LookupError(f"No usage counter registered for plan limit {limit!r}") from None


def all_counters() -> list[Counter]:
    return list(_counters.values())
