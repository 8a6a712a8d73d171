"""One live session inside the live worker: intake -> selection -> reply -> overlay.

    intake task ──events──> ChatSelector ──batches──> reply loop ──clauses──> overlay + dashboard
         ^                                                ^
         └── control messages from the API (say, test chat, pause, emergency stop, settings)

Everything the session shows goes out on the channel layer (live.events); speech clips are kept
in Redis for a few minutes and fetched by the overlay with its key. State that must survive the
process (status, settings, viewer memory) is in PostgreSQL; the worker's lease is in Redis.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from . import events, services
from .intake.base import Intake, StreamEvent
from .models import LiveSession, SessionStatus
from .responder import LiveTurn, Responder
from .selection import ChatSelector, SelectionSettings, describe_batch
from .settings_schema import effective_settings

log = logging.getLogger(__name__)

CLIP_TTL_S = 300
RECENT_CHAT = 20


STOP_WAIT_S = 10.0


def clip_key(session_id: str, clip_id: str) -> str:
    return f"live:clip:{session_id}:{clip_id}"


class LiveRunner:
    def __init__(self, session: LiveSession, *, intake: Intake | None, responder: Responder,
                 store_clip: Callable[[str, bytes], Any] | None = None) -> None:
        self.session = session
        self.session_id = str(session.pk)
        self.intake = intake
        self.responder = responder
        self.store_clip = store_clip
        self.settings = effective_settings(session.settings)
        self.selector = ChatSelector(SelectionSettings.from_dict(self.settings))
        self.paused = session.ai_paused
        self.recent_chat: deque[StreamEvent] = deque(maxlen=RECENT_CHAT)
        self.wake = asyncio.Event()
        self.stopping = asyncio.Event()
        self._reply_task: asyncio.Task | None = None
        self.last_reply_ended = 0.0
        self.last_activity = time.monotonic()
        self.said: list[str] = []  # lines queued by "say this", spoken before any chat

    # Lifecycle -----------------------------------------------------------------------------------
    async def run(self) -> None:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(events.control_group(self.session_id), channel)
        tasks = [asyncio.create_task(self._control_loop(layer, channel)), asyncio.create_task(self._reply_loop())]
        if self.intake is not None:
            tasks.append(asyncio.create_task(self._intake_loop()))
        await self._dashboard({"type": "log", "stage": "worker", "detail": "session picked up"})
        try:
            await self.stopping.wait()
        finally:
            if self.intake is not None:
                await self.intake.stop()
            for task in tasks:
                task.cancel()
            # Bounded: a channel-layer receive() cancelled while other runners of this worker
            # receive on the same layer can fail to wake (channels-redis); the session must still
            # be released. The reply task gets the time to store its cut reply.
            done, pending = await asyncio.wait(tasks, timeout=STOP_WAIT_S)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    log.warning("live runner task ended with %r", task.exception())
            if pending:
                log.warning("live runner %s: %d task(s) did not stop in %ss", self.session_id, len(pending), STOP_WAIT_S)
            await layer.group_discard(events.control_group(self.session_id), channel)

    def stop(self) -> None:
        self.stopping.set()

    # Intake ------------------------------------------------------------------------------------
    async def _intake_loop(self) -> None:
        async def on_state(state: str, detail: str) -> None:
            await self._dashboard({"type": "intake", "state": state, "detail": detail})
            if state in ("revoked", "failed"):
                await database_sync_to_async(self._mark_failed)(f"{state}: {detail}")
                self.stop()

        await self.intake.run(self.on_event, on_state)

    def _mark_failed(self, detail: str) -> None:
        LiveSession.objects.filter(pk=self.session_id).update(status=SessionStatus.FAILED, status_detail=detail[:300])

    async def on_event(self, event: StreamEvent) -> None:
        """Every incoming event: shown on the overlay, filtered, maybe queued."""
        self.last_activity = time.monotonic()
        self.recent_chat.append(event)
        shown = event.as_overlay()
        await events.apublish(events.overlay_group(self.session_id), {"type": "chat", "event": shown})
        verdict = self.selector.offer(event)
        await self._dashboard({"type": "log", "stage": "incoming", "event": shown, "accepted": verdict.accepted,
                               "reason": verdict.reason, "queued": len(self.selector), "dropped": self.selector.dropped})
        if verdict.accepted:
            self.wake.set()

    # Control -----------------------------------------------------------------------------------
    async def _control_loop(self, layer: Any, channel: str) -> None:
        while True:
            message = await layer.receive(channel)
            payload = message.get("payload") or {}
            await self.on_control(payload)

    async def on_control(self, payload: dict[str, Any]) -> None:
        kind = payload.get("type")
        if kind == "say":
            self.said.append(str(payload.get("text", ""))[:500])
            self.wake.set()
        elif kind == "test_chat":
            donation = int(payload.get("donation") or 0)
            nickname = str(payload.get("nickname") or "viewer")[:40]
            await self.on_event(StreamEvent(
                kind="donation" if donation else "chat", viewer_id=f"test:{nickname}", nickname=nickname,
                text=str(payload.get("text", ""))[:500], amount=donation))
        elif kind == "pause":
            self.paused = bool(payload.get("paused"))
            self.wake.set()
        elif kind == "emergency_stop":
            self.paused = True
            self.said.clear()
            cleared = self.selector.clear()
            if self._reply_task is not None:
                self._reply_task.cancel()
            await self._dashboard({"type": "log", "stage": "emergency_stop", "cleared": cleared})
        elif kind == "settings":
            self.settings = effective_settings(payload.get("settings"))
            old = self.selector
            self.selector = ChatSelector(SelectionSettings.from_dict(self.settings))
            self.selector.dropped = old.dropped
        elif kind == "status" and payload.get("status") != SessionStatus.RUNNING:
            self.stop()

    # Replies -----------------------------------------------------------------------------------
    async def _reply_loop(self) -> None:
        while True:
            await self._wait_for_work()
            if self.said:
                line = self.said.pop(0)
                self._reply_task = asyncio.create_task(self._speak_line(line))
            else:
                batch = self.selector.take_batch()
                if not batch:
                    if self._quiet_turn_due():
                        batch = []
                        self._reply_task = asyncio.create_task(self._reply(batch, keep_talking=True))
                    else:
                        continue
                else:
                    self._reply_task = asyncio.create_task(self._reply(batch))
            try:
                await self._reply_task
            except asyncio.CancelledError:
                if asyncio.current_task().cancelling():
                    raise  # the loop itself is stopping; else an emergency stop cut the reply
            except Exception as exc:  # one failed reply (model down, no voice) must not end the session
                log.warning("live reply failed in %s: %r", self.session_id, exc)
                await self._dashboard({"type": "log", "stage": "error", "code": getattr(exc, "code", "server_error"),
                                       "detail": str(getattr(exc, "message", "") or type(exc).__name__)[:300]})
            self._reply_task = None
            self.last_reply_ended = time.monotonic()

    def _quiet_turn_due(self) -> bool:
        return bool(self.settings["keep_talking"]) and time.monotonic() - self.last_activity >= self.settings["quiet_s"]

    async def _wait_for_work(self) -> None:
        while True:
            pace = float(self.settings["reply_pace_s"])
            wait_pace = self.last_reply_ended + pace - time.monotonic()
            if wait_pace > 0:
                await asyncio.sleep(wait_pace)
            if self.said or (not self.paused and (len(self.selector) or self._quiet_turn_due())):
                return
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), 1.0)

    async def _speak_line(self, line: str) -> None:
        """"Say this": the streamer's line, spoken in the character's voice, no LLM."""
        await self._run_turn(None, line, context="", verbatim=True)

    async def _reply(self, batch: list[StreamEvent], keep_talking: bool = False) -> None:
        if keep_talking:
            prompt = "(The chat has been quiet for a while. Say something to keep the stream going.)"
        else:
            prompt = describe_batch(batch)
            for event in batch:
                await database_sync_to_async(services.remember_viewer)(
                    session=self.session, platform=self.session.platform, viewer_id=event.viewer_id,
                    nickname=event.nickname, text=event.text, donation=event.amount)
        await self._dashboard({"type": "log", "stage": "chosen", "prompt": prompt, "count": len(batch)})
        context = await database_sync_to_async(self._context)(batch)
        await self._run_turn(batch, prompt, context=context)

    def _context(self, batch: list[StreamEvent]) -> str:
        from .selectors import viewer_memories

        lines = ["Recent chat:"] + [f"- {e.nickname}: {e.text}" for e in list(self.recent_chat)[-10:]]
        if self.settings["memory_enabled"] and batch:
            ids = {e.viewer_id for e in batch}
            for memory in viewer_memories(user=self.session.owner, platform=self.session.platform).filter(viewer_id__in=ids):
                said = " / ".join(memory.recent[-3:-1])
                if said:
                    lines.append(f"You remember {memory.nickname} (seen {memory.message_count} times) said before: {said}")
        return "\n".join(lines)

    async def _run_turn(self, batch: list[StreamEvent] | None, prompt: str, *, context: str, verbatim: bool = False) -> None:
        started = time.monotonic()
        received = min((e.received_at for e in batch), default=started) if batch else started
        turn = LiveTurn(session_id=self.session_id, owner_id=self.session.owner_id,
                        character_id=str(self.session.character_id), conversation_id=None, prompt=prompt, context=context)
        first_audio_ms: float | None = None
        texts: list[str] = []
        iterator = self.responder.say(turn) if verbatim else self.responder.reply(turn)
        # aclosing: when an emergency stop cancels this task between two clauses (storing a clip,
        # publishing), the generator is closed now, which aborts the model stream upstream;
        # otherwise it would wait for garbage collection while the model kept generating.
        async with contextlib.aclosing(iterator) as clauses:
            async for clause in clauses:
                clip_id = ""
                if clause.audio_wav and self.store_clip is not None:
                    clip_id = uuid.uuid4().hex
                    await self.store_clip(clip_key(self.session_id, clip_id), clause.audio_wav)
                if first_audio_ms is None:
                    first_audio_ms = (time.monotonic() - received) * 1000
                texts.append(clause.text)
                await events.apublish(events.overlay_group(self.session_id), {
                    "type": "say", "text": clause.text, "emotion": clause.emotion, "clip": clip_id,
                    "duration": clause.duration_s, "visemes": clause.visemes,
                })
        await events.apublish(events.overlay_group(self.session_id), {"type": "reply", "text": " ".join(texts)})
        await self._dashboard({"type": "log", "stage": "reply", "text": " ".join(texts),
                               "first_audio_ms": round(first_audio_ms or 0, 1)})

    async def _dashboard(self, payload: dict[str, Any]) -> None:
        await events.apublish(events.dashboard_group(self.session_id), {**payload, "at": time.time()})
