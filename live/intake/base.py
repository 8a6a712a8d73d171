"""The shape every stream platform's chat is turned into, and the interface an intake implements.

Adding a platform means one new `Intake` subclass: the live worker, the selector and the overlay
only ever see `StreamEvent`s.
"""
from __future__ import annotations

import abc
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

EventKind = Literal["chat", "donation", "subscription"]
IntakeState = Literal["connecting", "connected", "subscribed", "reconnecting", "revoked", "stopped", "failed"]


@dataclass(frozen=True)
class StreamEvent:
    kind: EventKind
    viewer_id: str  # the platform's stable id for the viewer (Chzzk: senderChannelId)
    nickname: str
    text: str
    channel_id: str = ""  # the stream's channel
    amount: int = 0  # donations, in the platform's currency unit
    tier: int = 0  # subscriptions
    months: int = 0
    role: str = ""  # platform role code (streamer, manager, common_user, ...)
    badges: tuple[str, ...] = ()
    emojis: dict[str, str] = field(default_factory=dict)  # token -> image URL (allow-listed hosts only)
    sent_at_ms: int = 0  # the platform's timestamp, when it gives one
    received_at: float = field(default_factory=time.monotonic)

    @property
    def from_streamer(self) -> bool:
        return bool(self.channel_id) and self.viewer_id == self.channel_id

    def as_overlay(self) -> dict:
        """What the overlay and the dashboard log get: plain data, rendered as text by the page."""
        return {
            "kind": self.kind,
            "viewer_id": self.viewer_id,
            "nickname": self.nickname,
            "text": self.text,
            "amount": self.amount,
            "tier": self.tier,
            "months": self.months,
            "emojis": dict(self.emojis),
            "from_streamer": self.from_streamer,
        }


OnEvent = Callable[[StreamEvent], Awaitable[None]]
OnState = Callable[[IntakeState, str], Awaitable[None]]


class Intake(abc.ABC):
    """A long-running connection to one stream's chat. `run` returns only when stopped or revoked."""

    platform: str = ""

    @abc.abstractmethod
    async def run(self, on_event: OnEvent, on_state: OnState) -> None: ...

    @abc.abstractmethod
    async def stop(self) -> None: ...
