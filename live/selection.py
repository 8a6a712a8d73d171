"""Choosing what the character answers out of a stream's chat.

Pure logic (no I/O, no ORM): the live worker offers every incoming event and takes batches when
the character is ready to speak. Filters run on arrival (cheap, so a flood cannot pile up work);
the queue is bounded and drops the OLDEST chat when full, counting what it dropped so the
dashboard can show it. Donations and subscriptions jump ahead of chat and are never dropped for
chat's sake.
"""
from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from .intake.base import StreamEvent

_LINK = re.compile(r"(https?://|www\.|\b[\w-]+\.(com|net|org|kr|io|gg|me|tv|ly)\b)", re.IGNORECASE)
_REPEAT_RUN = re.compile(r"(.)\1{7,}")  # "ㅋㅋㅋㅋㅋㅋㅋㅋ" or "!!!!!!!!" floods


@dataclass(frozen=True)
class SelectionSettings:
    min_length: int = 2
    banned_words: tuple[str, ...] = ()
    ignore_streamer: bool = True
    block_links: bool = True
    viewer_max_per_minute: int = 6  # per-viewer rate: beyond this a viewer's chat is skipped
    repeat_window: int = 30  # a message identical to one of the last N (any viewer) is spam
    queue_size: int = 50
    batch_size: int = 3  # chat messages answered together in one turn

    @classmethod
    def from_dict(cls, raw: dict) -> SelectionSettings:
        known = {name: raw[name] for name in cls.__dataclass_fields__ if name in raw}
        if "banned_words" in known:
            known["banned_words"] = tuple(str(w).strip().lower() for w in known["banned_words"] if str(w).strip())
        return cls(**known)


@dataclass
class Verdict:
    accepted: bool
    reason: str = ""  # why it was skipped: too_short, banned_word, link, flood, repeat, streamer, ...


@dataclass
class ChatSelector:
    settings: SelectionSettings = field(default_factory=SelectionSettings)
    dropped: int = 0  # queued chat pushed out by newer chat (the queue was full)
    skipped: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._priority: deque[StreamEvent] = deque()
        self._chat: deque[StreamEvent] = deque()
        self._recent_texts: deque[str] = deque(maxlen=max(1, self.settings.repeat_window))
        self._per_viewer: dict[str, deque[float]] = {}

    def __len__(self) -> int:
        return len(self._priority) + len(self._chat)

    def offer(self, event: StreamEvent, now: float | None = None) -> Verdict:
        now = event.received_at if now is None else now
        verdict = self._judge(event, now)
        if not verdict.accepted:
            self.skipped[verdict.reason] = self.skipped.get(verdict.reason, 0) + 1
            return verdict
        if event.kind == "chat":
            if len(self._chat) >= self.settings.queue_size:
                self._chat.popleft()
                self.dropped += 1
            self._chat.append(event)
        else:
            self._priority.append(event)
        return verdict

    def _judge(self, event: StreamEvent, now: float) -> Verdict:
        s = self.settings
        if event.kind != "chat":
            return Verdict(True)  # paid and subscription events are always answered
        if s.ignore_streamer and event.from_streamer:
            return Verdict(False, "streamer")
        text = event.text.strip()
        if len(text) < s.min_length:
            return Verdict(False, "too_short")
        lowered = text.lower()
        if any(word in lowered for word in s.banned_words):
            return Verdict(False, "banned_word")
        if s.block_links and _LINK.search(text):
            return Verdict(False, "link")
        if _REPEAT_RUN.search(text):
            return Verdict(False, "flood")
        stamps = self._per_viewer.setdefault(event.viewer_id, deque())
        while stamps and now - stamps[0] > 60:
            stamps.popleft()
        if len(stamps) >= s.viewer_max_per_minute:
            return Verdict(False, "rate")
        stamps.append(now)
        normalized = " ".join(lowered.split())
        if normalized in self._recent_texts:
            return Verdict(False, "repeat")
        self._recent_texts.append(normalized)
        return Verdict(True)

    def take_batch(self) -> list[StreamEvent]:
        """The next turn's input: one donation/subscription alone, else up to batch_size chats,
        newest last (the character answers the freshest chat the audience still sees)."""
        if self._priority:
            return [self._priority.popleft()]
        batch: list[StreamEvent] = []
        while self._chat and len(batch) < self.settings.batch_size:
            batch.append(self._chat.popleft())
        return batch

    def clear(self) -> int:
        count = len(self)
        self._priority.clear()
        self._chat.clear()
        return count


def describe_batch(events: Iterable[StreamEvent]) -> str:
    """The batch as the user message of the character's turn (nicknames are data, not instructions)."""
    lines = []
    for event in events:
        if event.kind == "donation":
            lines.append(f"[donation {event.amount}] {event.nickname}: {event.text}".rstrip(": "))
        elif event.kind == "subscription":
            lines.append(f"[subscribed, tier {event.tier}, month {event.months}] {event.nickname}")
        else:
            lines.append(f"{event.nickname}: {event.text}")
    return "\n".join(lines)
