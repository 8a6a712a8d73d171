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
    label: str | Promise  # the heading on the profile page ("actors")
    count: Callable[[int], int]  # user id -> used
    # n -> the label in the number's form: ngettext("actor", "actors", n). Without it, `label`.
    label_for_count: Callable[[int], str] | None = None

    def label_for(self, n: int) -> str:
        return self.label_for_count(n) if self.label_for_count else str(self.label)


_counters: dict[str, Counter] = {}


def register_counter(
    limit: str, label: str | Promise, count: Callable[[int], int], *, label_for_count: Callable[[int], str] | None = None
) -> None:
    _counters[limit] = Counter(limit=limit, label=label, count=count, label_for_count=label_for_count)


def counter(limit: str) -> Counter:
    try:
        return _counters[limit]
    except KeyError:
        raise LookupError(f"No usage counter registered for plan limit {limit!r}") from None


def all_counters() -> list[Counter]:
    return list(_counters.values())
