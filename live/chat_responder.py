"""The real Responder: live replies are ordinary chat turns, spoken clause by clause.

    chat.turns.run_turn (one Conversation per live session; the live context rides along as
    extra system text, never stored) -> tokens -> ClauseSplitter -> TTS per clause -> Clause

The LLM keeps streaming while a clause is synthesized (the turn runs in its own task and hands
tokens over a queue), so the first clause is spoken before the reply is finished. Closing the
iteration (emergency stop cancels the runner's task) sets the turn's cancel event: the upstream
stream is closed, generation stops and the cut reply is stored as `cancelled`.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from channels.db import database_sync_to_async

from avatarforge.errors import AppError
from chat.turns import TurnListener, TurnRequest, run_turn
from inference.speech import config as speech_config
from inference.speech.audio import wav_bytes
from inference.speech.clauses import ClauseSplitter, split_text
from inference.speech.selectors import resolve_voice
from inference.speech.types import Voice

from . import services
from .models import LiveSession
from .responder import Clause, LiveTurn, Responder

log = logging.getLogger(__name__)

_END = object()


class _Collect(TurnListener):
    """Hands the turn's visible tokens (and its emotion) to the responder's queue."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.emotion = "neutral"
        self.error: AppError | None = None

    async def on_emotion(self, reply_id: int, emotion: str) -> None:
        self.emotion = emotion

    async def on_token(self, reply_id: int, text: str) -> None:
        self.queue.put_nowait(text)

    async def on_error(self, error: AppError, *, reply_id: int | None, returned_text: str | None) -> None:
        self.error = error


def voice_for(character: Any) -> Voice:
    """The character's own voice when it names one that speaks its language, else the default
    voice for its language (the embedded Piper voice for English, espeak-ng for Korean)."""
    language = getattr(character, "language", "en") or "en"
    voice_id = (getattr(character, "voice_id", "") or "").strip()
    if voice_id:
        try:
            return resolve_voice(voice_id=voice_id, language=language)
        except AppError:
            log.warning("character %s names voice %r, which does not speak %s; using the default", character.pk, voice_id, language)
    return resolve_voice(voice_id="default", language=language)


def visemes_for_overlay(events: Any) -> list[dict[str, Any]]:
    """The speech stack's VisemeEvents in the overlay's format (pose.js: t in seconds, v, w)."""
    return [{"t": round(e.start_ms / 1000, 3), "v": e.viseme, "w": round(e.weight, 3)} for e in events]


class ChatTurnResponder(Responder):
    def __init__(self, session: LiveSession, *, speak: bool = True) -> None:
        self.session = session
        self.session_id = str(session.pk)
        self.speak = speak
        self._voice: Voice | None = None

    async def _synthesize(self, text: str, emotion: str) -> Clause:
        if not self.speak:
            return Clause(text=text, emotion=emotion)
        if self._voice is None:
            self._voice = voice_for(self.session.character)
        engine = speech_config.tts_engine(self._voice.engine)
        speech = await engine.synthesize(text, voice=self._voice, speed=float(getattr(self.session.character, "voice_speed", 1.0) or 1.0))
        return Clause(text=text, emotion=emotion, audio_wav=wav_bytes(speech.pcm, speech.sample_rate),
                      duration_s=speech.duration, visemes=visemes_for_overlay(speech.visemes))

    async def reply(self, turn: LiveTurn) -> AsyncIterator[Clause]:
        conversation_id = await database_sync_to_async(services.ensure_conversation)(session_id=self.session_id)
        cancel = asyncio.Event()
        listener = _Collect()
        request = TurnRequest(user=self.session.owner, conversation_id=conversation_id, text=turn.prompt,
                              cancel=cancel, context=turn.context, memories=False)  # the audience is not the owner

        async def drive() -> None:
            try:
                await run_turn(request, listener)
            finally:
                listener.queue.put_nowait(_END)

        task = asyncio.create_task(drive())
        splitter = ClauseSplitter()
        try:
            while True:
                item = await listener.queue.get()
                if item is _END:
                    break
                for clause in splitter.feed(item):
                    yield await self._synthesize(clause, listener.emotion)
            for clause in splitter.flush():
                yield await self._synthesize(clause, listener.emotion)
            if listener.error is not None:
                raise listener.error
        finally:
            # Closed early (emergency stop, worker shutdown): abort upstream, let the turn store.
            cancel.set()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.shield(task)

    async def say(self, turn: LiveTurn) -> AsyncIterator[Clause]:
        for clause in split_text(turn.prompt):
            yield await self._synthesize(clause, "neutral")
