"""`/ws/chat/<conversation id>/`: send a message, receive the reply token by token, stop it.

Client frames: {"type": "send", "text": "...", "model": "<name>"?}, {"type": "cancel"},
{"type": "ping"}. Server frames: see chat.replies (accepted, queued, start, emotion, token,
done, cancelled, error), plus "ready" after connecting and "message" when another tab of the
same conversation finished a reply. Auth in connect (4401); a conversation that is not the
user's closes with 4404 after a `not_found` error frame.

The consumer joins the group of its conversation so a cancel from anywhere (another tab, the
REST API, another Daphne process) reaches the process that streams the reply.
"""
from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.utils.translation import gettext as _

from avatarforge.consumers import CLOSE_NOT_FOUND, AppJsonConsumer
from avatarforge.errors import AppError

from . import replies
from .models import MAX_USER_TEXT
from .selectors import get_conversation, in_flight

MAX_FRAME_BYTES = 16 * 1024
FRAMES_PER_WINDOW = 30  # frames a client may send per RATE_WINDOW seconds
RATE_WINDOW = 10.0


def group_name(conversation_id: Any) -> str:
    return f"chat.{conversation_id}"


def _send_allowed(user: Any) -> float | None:
    """Take one message from the user's chat send budget, the REST API's (chat.api.ChatSendThrottle,
    same cache key): None when allowed, else seconds to wait. Without this a client sends through
    the socket what the API would refuse."""
    from .api import ChatSendThrottle

    throttle = ChatSendThrottle()
    if throttle.allow_request(SimpleNamespace(user=user, META={}), None):
        return None
    return throttle.wait() or 1.0


class ChatConsumer(AppJsonConsumer):
    conversation_id: str
    reply_task: asyncio.Task | None = None

    async def on_connect(self) -> None:
        self.conversation_id = str(self.scope["url_route"]["kwargs"]["conversation_id"])
        self.user = self.scope["user"]
        self.reply_task = None
        self._frames: list[float] = []
        try:
            conversation = await database_sync_to_async(get_conversation)(user=self.user, conversation_id=self.conversation_id)
        except AppError as exc:
            await self.send_app_error(exc)
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.group = group_name(conversation.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        busy = await database_sync_to_async(lambda: in_flight(conversation_id=conversation.pk).exists())()
        await self.send_json({"type": "ready", "conversation": str(conversation.pk), "busy": busy})

    async def disconnect(self, code: int) -> None:
        if self.reply_task is not None and not self.reply_task.done():
            self.reply_task.cancel()
        group = getattr(self, "group", None)
        if group:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if bytes_data is not None or text_data is None:
            await self.send_error("unsupported_frame", _("Send JSON text frames."))
            return
        if len(text_data.encode()) > MAX_FRAME_BYTES:
            await self.send_error("payload_too_large", _("A frame may have at most %(n)d bytes.") % {"n": MAX_FRAME_BYTES})
            return
        now = time.monotonic()
        self._frames = [t for t in self._frames if now - t < RATE_WINDOW]
        if len(self._frames) >= FRAMES_PER_WINDOW:
            await self.send_error("rate_limited", _("Slow down: too many frames."), {"retry_after": int(RATE_WINDOW)})
            return
        self._frames.append(now)
        await super().receive(text_data=text_data, **kwargs)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self.send_error("invalid", _("Frames must be JSON objects with a type."))
            return
        kind = content.get("type")
        if kind == "send":
            await self.handle_send(content)
        elif kind == "cancel":
            await self.handle_cancel()
        elif kind == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_error("unknown_type", _("Unknown frame type."), {"type": str(kind)[:50]})

    async def handle_send(self, content: dict[str, Any]) -> None:
        text = content.get("text")
        model = content.get("model") or None
        if not isinstance(text, str) or not text.strip():
            await self.send_error("empty_message", _("Write a message first."), {"text": ["blank"]})
            return
        if len(text) > MAX_USER_TEXT:
            await self.send_error("message_too_long", _("A message may have at most %(n)d characters.") % {"n": MAX_USER_TEXT},
                                  {"max_length": MAX_USER_TEXT})
            return
        if model is not None and (not isinstance(model, str) or len(model) > 100):
            await self.send_error("invalid", _("The model must be a name from the model list."), {"model": ["invalid"]})
            return
        if self.reply_task is not None and not self.reply_task.done():
            await self.send_error("reply_in_progress", _("The character is still answering. Wait for the reply or stop it."))
            return
        wait = await sync_to_async(_send_allowed)(self.user)
        if wait is not None:
            retry_after = int(wait) + 1
            await self.send_error(
                "rate_limited", _("Too many requests. Try again in %(s)d seconds.") % {"s": retry_after}, {"retry_after": retry_after}
            )
            return
        self.reply_task = asyncio.create_task(
            replies.stream_reply(user=self.user, conversation_id=self.conversation_id, text=text, model_name=model, send=self.send_json)
        )
        self.reply_task.add_done_callback(self._reply_done)

    def _reply_done(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is None:
            message = task.result()
            if message is not None:
                asyncio.ensure_future(self._broadcast_message(message.pk))

    async def _broadcast_message(self, message_id: int) -> None:
        try:
            await self.channel_layer.group_send(self.group, {"type": "chat.message", "message_id": message_id, "origin": self.channel_name})
        except Exception:  # other tabs refresh on their next load
            pass

    async def handle_cancel(self) -> None:
        if self.reply_task is not None and not self.reply_task.done():
            self.reply_task.cancel()
            return
        # The reply may stream in another tab or process: ask the whole conversation group.
        await self.channel_layer.group_send(self.group, {"type": "chat.cancel", "origin": self.channel_name})

    # --- channel layer events -------------------------------------------------------------------
    async def chat_cancel(self, event: dict[str, Any]) -> None:
        if self.reply_task is not None and not self.reply_task.done():
            self.reply_task.cancel()

    async def chat_message(self, event: dict[str, Any]) -> None:
        if event.get("origin") == self.channel_name:
            return
        from .models import Message
        from .serializers import MessageSerializer

        message = await database_sync_to_async(lambda: Message.objects.filter(pk=event.get("message_id")).first())()
        if message is not None:
            await self.send_json({"type": "message", "message": dict(MessageSerializer(message).data)})
