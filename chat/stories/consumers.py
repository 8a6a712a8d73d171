"""`/ws/story/`: write a story and receive it token by token; stop it.

Client frames: {"type": "generate", "prompt", "length", "style", "model"?} (validated by the REST
API's StoryRequestSerializer, same error codes), {"type": "cancel"}, {"type": "ping"}.
Server frames: "ready" after connecting; "start" {model}; "token" {text} (the model's raw text,
chapter headings included); "done" {story} (the REST API's StorySerializer payload, which replaces
the streamed text: a loop cut ends it earlier); "cancelled"; "error" {code, message, details}.
Unauthenticated sockets close with 4401 after an error frame.

Cancel (or closing the socket) cancels the task running `write_story`, which closes the
gateway's HTTP stream so the model server stops generating, and frees the model slot.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from django.utils.translation import gettext as _

from avatarforge.consumers import AppJsonConsumer
from avatarforge.errors import AppError

from . import services
from .serializers import story_payload, validated

MAX_FRAME_CHARS = 16 * 1024

logger = logging.getLogger(__name__)


class StoryConsumer(AppJsonConsumer):
    max_frame_chars = MAX_FRAME_CHARS
    task: asyncio.Task | None = None

    async def on_connect(self) -> None:
        self.user = self.scope["user"]
        self.task = None
        await self.send_json({"type": "ready"})

    async def disconnect(self, code: int) -> None:
        await self._stop()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "generate":
            await self.handle_generate(content)
        elif kind == "cancel":
            if await self._stop():
                await self.send_json({"type": "cancelled"})
        elif kind == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_error("unknown_type", _("Unknown frame type."), {"type": str(kind)[:50]})

    async def handle_generate(self, content: dict[str, Any]) -> None:
        if self.task is not None and not self.task.done():
            await self.send_error("story_in_progress", _("A story is still being written. Wait for it or stop it."))
            return
        try:
            data = validated({k: content[k] for k in ("prompt", "length", "style", "model") if k in content})
        except AppError as exc:
            await self.send_app_error(exc)
            return
        self.task = asyncio.create_task(self._write(data))

    async def _write(self, data: dict[str, Any]) -> None:
        started = False

        async def on_token(text: str) -> None:
            nonlocal started
            if not started:
                started = True
                await self.send_json({"type": "start"})
            await self.send_json({"type": "token", "text": text})

        try:
            story = await services.write_story(user=self.user, prompt=data["prompt"], length=data["length"],
                                               style=data["style"], model_name=data["model"] or None, on_token=on_token)
        except AppError as exc:
            await self.send_app_error(exc)
            return
        except Exception:  # a bug: say so rather than leave the page waiting
            logger.exception("story failed")
            await self.send_error("server_error", _("Something went wrong on our side. Please try again."))
            return
        await self.send_json({"type": "done", "story": story_payload(story)})

    async def _stop(self) -> bool:
        """Cancel the story being written (if any) and wait until its stream and slot are closed."""
        task = self.task
        if task is None or task.done():
            return False
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return True
