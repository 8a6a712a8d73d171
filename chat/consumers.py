"""`/ws/chat/<conversation id>/`: send a message, receive the reply token by token, stop it.

Client frames: {"type": "send", "text": "...", "model": "<name>"?} (validated by the API's
SendMessageSerializer), {"type": "cancel"}, {"type": "ping"}. Server frames: accepted, queued
{position}, start, emotion, token {text}, done {message}, cancelled {message|null}, error {code,
message, details} for a turn (chat.turns runs it; `TurnFrames` below turns it into frames), plus
"ready" after connecting and "message" when another tab of the same conversation finished a
reply. Auth in connect (4401); a conversation that is not the user's closes with 4404 after a
`not_found` error frame.

The consumer joins its conversation's group (chat.events) so a cancel from anywhere (another tab,
the REST API, another Daphne process) reaches the process that streams the reply.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.utils.translation import gettext as _

from avatarforge.consumers import CLOSE_NOT_FOUND, AppJsonConsumer
from avatarforge.errors import AppError, error_body
from inference.llm import ModelConfig

from . import events, rate_limits
from .models import MAX_USER_TEXT, Message
from .selectors import get_conversation, in_flight
from .serializers import MessageSerializer, SendMessageSerializer
from .turns import TurnListener, TurnRequest, TurnResult, run_turn

MAX_FRAME_BYTES = 16 * 1024
FRAMES_PER_WINDOW = 30  # frames a client may send per RATE_WINDOW seconds
RATE_WINDOW = 10.0


Send = Callable[[dict[str, Any]], Awaitable[None]]


def _serialize(message: Message | None) -> dict[str, Any] | None:
    return dict(MessageSerializer(message).data) if message is not None else None


class TurnFrames(TurnListener):
    """A turn's events as this socket's frames."""

    def __init__(self, send: Send) -> None:
        self.send = send

    async def on_accepted(self, user_message: Message, reply: Message, model: ModelConfig) -> None:
        await self.send({"type": "accepted", "user_message": _serialize(user_message), "reply_id": reply.pk, "model": model.name})

    async def on_queued(self, reply_id: int, position: int) -> None:
        await self.send({"type": "queued", "reply_id": reply_id, "position": position})

    async def on_start(self, reply_id: int, queue_ms: int, prompt_tokens: int) -> None:
        await self.send({"type": "start", "reply_id": reply_id, "queue_ms": queue_ms, "prompt_tokens": prompt_tokens})

    async def on_emotion(self, reply_id: int, emotion: str) -> None:
        await self.send({"type": "emotion", "reply_id": reply_id, "emotion": emotion})

    async def on_token(self, reply_id: int, text: str) -> None:
        await self.send({"type": "token", "reply_id": reply_id, "text": text})

    async def on_done(self, reply: Message) -> None:
        await self.send({"type": "done", "message": _serialize(reply)})

    async def on_cancelled(self, reply_id: int, reply: Message | None) -> None:
        await self.send({"type": "cancelled", "reply_id": reply_id, "message": _serialize(reply)})

    async def on_error(self, error: AppError, *, reply_id: int | None, returned_text: str | None) -> None:
        if reply_id is None:
            await self.send({"type": "error", **error.as_dict()})
            return
        details = error.details if isinstance(error.details, dict) else {"detail": error.details}
        await self.send({"type": "error", **error.as_dict(), "details": {**(details or {}), "reply_id": reply_id, "text": returned_text}})


def _send_frame_error(errors: dict[str, Any]) -> dict[str, Any]:
    """The serializer's verdict on a send frame, in the codes the socket has always used."""
    text_codes = {getattr(e, "code", "") for e in errors.get("text", [])}
    if "max_length" in text_codes:
        return error_body("message_too_long", _("A message may have at most %(n)d characters.") % {"n": MAX_USER_TEXT},
                          {"max_length": MAX_USER_TEXT})
    if text_codes:
        return error_body("empty_message", _("Write a message first."), {"text": ["blank"]})
    return error_body("invalid", _("The model must be a name from the model list."), {"model": ["invalid"]})


class ChatConsumer(AppJsonConsumer):
    conversation_id: str
    reply_task: asyncio.Task | None = None

    async def on_connect(self) -> None:
        self.conversation_id = str(self.scope["url_route"]["kwargs"]["conversation_id"])
        self.user = self.scope["user"]
        self.reply_task = None
        self.cancel_turn: asyncio.Event | None = None
        self._frames: list[float] = []
        try:
            conversation = await database_sync_to_async(get_conversation)(user=self.user, conversation_id=self.conversation_id)
        except AppError as exc:
            await self.send_app_error(exc)
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.conversation_pk = conversation.pk
        self.group = events.group_name(conversation.pk)
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
        serializer = SendMessageSerializer(data={k: content[k] for k in ("text", "model") if k in content})
        if not serializer.is_valid():
            await self.send_json({"type": "error", **_send_frame_error(serializer.errors)})
            return
        data = serializer.validated_data
        if self.reply_task is not None and not self.reply_task.done():
            await self.send_error("reply_in_progress", _("The character is still answering. Wait for the reply or stop it."))
            return
        wait = await sync_to_async(rate_limits.take_chat_send)(user_id=self.user.pk)
        if wait is not None:
            retry_after = int(wait) + 1
            await self.send_error(
                "rate_limited", _("Too many requests. Try again in %(s)d seconds.") % {"s": retry_after}, {"retry_after": retry_after}
            )
            return
        self.cancel_turn = asyncio.Event()
        request = TurnRequest(user=self.user, conversation_id=self.conversation_id, text=data["text"],
                              model_name=data["model"] or None, cancel=self.cancel_turn)
        self.reply_task = asyncio.create_task(run_turn(request, TurnFrames(self.send_json)))
        self.reply_task.add_done_callback(self._reply_done)

    def _reply_done(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is None:
            result: TurnResult = task.result()
            if result.reply is not None:
                asyncio.ensure_future(self._broadcast_message(result.reply.pk))

    async def _broadcast_message(self, message_id: int) -> None:
        try:
            await events.announce_message(self.conversation_pk, message_id=message_id, origin=self.channel_name)
        except Exception:  # other tabs refresh on their next load
            pass

    def _stop_own_turn(self) -> bool:
        if self.reply_task is not None and not self.reply_task.done() and self.cancel_turn is not None:
            self.cancel_turn.set()  # the turn closes the upstream stream and stores what was written
            return True
        return False

    async def handle_cancel(self) -> None:
        if self._stop_own_turn():
            return
        # The reply may stream in another tab or process: ask the whole conversation group.
        await events.request_cancel(self.conversation_pk, origin=self.channel_name)

    # --- channel layer events (chat.events) -----------------------------------------------------
    async def chat_cancel(self, event: dict[str, Any]) -> None:
        self._stop_own_turn()

    async def chat_message(self, event: dict[str, Any]) -> None:
        if event.get("origin") == self.channel_name:
            return
        message = await database_sync_to_async(lambda: Message.objects.filter(pk=event.get("message_id")).first())()
        if message is not None:
            await self.send_json({"type": "message", "message": dict(MessageSerializer(message).data)})
