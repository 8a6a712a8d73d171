"""Chat's channel-layer names and events, in one place.

Every socket of a conversation joins `group_name(conversation_id)`. A cancel request sent to that
group (from another tab, the REST API, another Daphne process) reaches whichever process streams
the reply; a finished reply is announced so the other tabs show it.
"""
from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

CANCEL = "chat.cancel"  # handled by ChatConsumer.chat_cancel
MESSAGE = "chat.message"  # handled by ChatConsumer.chat_message


def group_name(conversation_id: Any) -> str:
    return f"chat.{conversation_id}"


async def request_cancel(conversation_id: Any, *, origin: str) -> None:
    """Ask whoever streams this conversation's reply to stop it."""
    await get_channel_layer().group_send(group_name(conversation_id), {"type": CANCEL, "origin": origin})


def request_cancel_sync(conversation_id: Any, *, origin: str) -> None:
    async_to_sync(request_cancel)(conversation_id, origin=origin)


async def announce_message(conversation_id: Any, *, message_id: int, origin: str) -> None:
    """Tell the conversation's other sockets that a reply was stored."""
    await get_channel_layer().group_send(group_name(conversation_id), {"type": MESSAGE, "message_id": message_id, "origin": origin})
