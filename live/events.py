"""Channel-layer group names and message types of live mode, in one place.

Two audiences: the overlay/OBS source (addressed by the session id, reached with the overlay key)
and the streamer's dashboard (the session's owner). The live worker publishes to both.
"""
from __future__ import annotations

from typing import Any
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def overlay_group(session_id: UUID | str) -> str:
    return f"live.overlay.{session_id}"


def dashboard_group(session_id: UUID | str) -> str:
    return f"live.dashboard.{session_id}"


def control_group(session_id: UUID | str) -> str:
    """Commands for the worker that holds the session (say, clear queue, emergency stop)."""
    return f"live.control.{session_id}"


def publish(group: str, payload: dict[str, Any]) -> None:
    """Send after the current transaction commits (nothing is announced that may roll back)."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "live.event", "payload": payload}
    transaction.on_commit(lambda: async_to_sync(layer.group_send)(group, message))


async def apublish(group: str, payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(group, {"type": "live.event", "payload": payload})
