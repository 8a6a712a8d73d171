"""One voice conversation's pipeline, independent of the transport (WebRTC or the PCM socket).

    mic PCM (16 kHz) -> Silero VAD -> end of turn (a pause of END_OF_TURN_MS that Smart Turn
    judges a finished turn, or a pause of UNFINISHED_PAUSE_MS; PAUSE_ONLY_END_MS without Smart Turn)
    -> STT (in memory, off the loop; started JUDGE_AFTER_MS into the pause, beside Smart Turn,
    and used if no speech follows) -> chat.turns.run_turn (the same conversation record)
    -> clause splitter -> TTS per clause -> Playout (emotion + visemes queued before each clause)

Barge-in: user speech of BARGE_IN_MS while the character talks (or the browser's `barge_in`
event) flushes the playout, stops TTS, sets the turn's cancel event (the upstream LLM stream is
closed) and cuts the stored reply to what was heard.

Echo guard: while our audio plays, a mic chunk only counts as the user's speech when the VAD
says speech AND the mic is at least ECHO_RATIO (1/4) times as loud as what we played over the
last 100 ms. Browsers cancel most echo (what leaks back is typically 20 dB or more below our
output, i.e. under 1/10 of its level), while a person speaking into the mic is measured at about
half of Piper's level. It must hold for BARGE_IN_MS in a row, so short echo bursts never cut.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
from channels.db import database_sync_to_async

from avatarforge.errors import AppError
from inference.speech.clauses import ClauseSplitter
from inference.speech.errors import EngineUnavailable
from inference.speech.stt import SpeechToText
from inference.speech.tts import TextToSpeech
from inference.speech.turn import SmartTurn
from inference.speech.types import Transcript, Voice
from inference.speech.vad import CHUNK_SAMPLES, SileroVad

from .. import events, services
from ..turns import TurnListener, TurnRequest, run_turn
from .playout import Clause, Playout, to_output_pcm

logger = logging.getLogger(__name__)

VAD_CHUNK_MS = CHUNK_SAMPLES * 1000 // 16000  # 32
END_OF_TURN_MS = 192  # pause that ends the user's turn when the turn detector judges it finished
                      # (6 VAD chunks; Pipecat recommends a 0.2 s VAD stop with Smart Turn)...
JUDGE_AFTER_MS = 64  # ...judged from this far into the pause, so the detector's ~120 ms run
                     # overlaps the rest of it instead of following it
UNFINISHED_PAUSE_MS = 1216  # ...or, when the turn detector says the sentence is unfinished, this one (38 chunks)
PAUSE_ONLY_END_MS = 256  # without a detector the pause alone decides: a longer one (8 chunks), as
                         # nothing else keeps a breath mid-sentence from ending the turn
MIN_SPEECH_MS = 160  # shorter blips are not a turn
BARGE_IN_MS = 256  # user speech that interrupts the character (8 chunks)...
BARGE_IN_WINDOW_MS = 512  # ...within this much time: words have quiet closures ("st-op") that fail
                          # the echo guard for a chunk or two, and must not start the count over
ECHO_RATIO = 0.25
MAX_UTTERANCE_S = 30  # a turn is transcribed at most this long (bounded memory)
PRE_ROLL_CHUNKS = 6  # keep ~200 ms before the VAD fired: Whisper needs the word onsets

EventSink = Callable[[dict[str, Any]], Awaitable[None]]


class _Speaker(TurnListener):
    """Turns a chat turn's tokens into clauses for TTS."""

    def __init__(self, session: VoiceSession) -> None:
        self.session = session
        self.splitter = ClauseSplitter()
        self.reply_id: int | None = None
        self.visible: list[str] = []
        self.emotion = "neutral"

    async def on_accepted(self, user_message, reply, model) -> None:
        self.reply_id = reply.pk
        await self.session.announce(user_message.pk)

    async def on_emotion(self, reply_id: int, emotion: str) -> None:
        self.emotion = emotion
        await self.session.send({"type": "emotion", "reply_id": reply_id, "emotion": emotion})

    async def on_token(self, reply_id: int, text: str) -> None:
        self.visible.append(text)
        for clause in self.splitter.feed(text):
            await self.session.clauses.put(clause)

    async def on_error(self, error: AppError, *, reply_id, returned_text) -> None:
        await self.session.send({"type": "error", **error.as_dict()})


class VoiceSession:
    def __init__(self, *, user: Any, conversation_id: Any, language: str, voice: Voice,
                 stt: SpeechToText, tts: TextToSpeech, send: EventSink, speed: float = 1.0,
                 turn_detector: SmartTurn | None = None, partial_every_ms: int = 0) -> None:
        self.user, self.conversation_id, self.language, self.voice = user, conversation_id, language, voice
        self.turn_detector = turn_detector  # None: the short pause alone ends a turn
        # Live captions while the user speaks: a transcription of the utterance so far after every
        # this much new speech (0: only the final transcript; see SPEECH_PARTIAL_TRANSCRIPT_MS).
        self.partial_every_ms = partial_every_ms
        self._partial_task: asyncio.Task | None = None
        self._partial_at_ms = 0
        self._utterance_no = 0  # which utterance a partial belongs to (late ones are dropped)
        self.speed = speed  # the character's voice speed (0.5-2.0)
        self.stt, self.tts, self._send = stt, tts, send
        self.vad = SileroVad()
        self.playout = Playout()
        self.clauses: asyncio.Queue[str | None] = asyncio.Queue()
        self._pending = np.zeros(0, dtype=np.float32)
        self._pre_roll: list[np.ndarray] = []
        self._utterance: list[np.ndarray] = []
        self._speech_ms = 0
        self._silence_ms = 0
        self._judgement: asyncio.Future[bool] | None = None  # the detector's verdict on this pause (asked once)
        # The utterance's transcription, started early in the pause (see _start_early_transcript).
        self._early: asyncio.Task[Transcript] | None = None
        self._barge: deque[bool] = deque(maxlen=BARGE_IN_WINDOW_MS // VAD_CHUNK_MS)  # chunks that count
        self.turn_task: asyncio.Task | None = None
        self.cancel: asyncio.Event | None = None
        self.speaker: _Speaker | None = None
        self.busy = False  # a turn (STT, LLM or TTS) is in progress
        self.closed = False
        self.turns_done = 0
        self.on_turn_start: Callable[[], None] | None = None  # benchmarks hook the end of speech

    async def send(self, event: dict[str, Any]) -> None:
        try:
            await self._send(event)
        except Exception:  # the client went away; the session ends with the transport
            logger.debug("voice event not delivered", exc_info=True)

    async def announce(self, message_id: int) -> None:
        """Tell the conversation's chat sockets that a message of this voice turn is stored, so
        the page's message list shows what was said, not only the captions."""
        try:
            await events.announce_message(self.conversation_id, message_id=message_id, origin="voice")
        except Exception:  # the channel layer is down: the history is still stored
            logger.warning("voice turn message %s not announced", message_id, exc_info=True)

    # --- input -----------------------------------------------------------------------------------
    async def feed(self, samples: np.ndarray) -> None:
        """Mic audio (float32 mono 16 kHz), any frame size."""
        self._pending = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        while self._pending.size >= CHUNK_SAMPLES:
            chunk, self._pending = self._pending[:CHUNK_SAMPLES], self._pending[CHUNK_SAMPLES:]
            await self._chunk(chunk)

    async def _chunk(self, chunk: np.ndarray) -> None:
        voiced = self.vad.is_speech(chunk)
        if self.playout.playing or self._speaking_turn():
            await self._while_talking(chunk, voiced)
            return
        if self.busy:
            return  # thinking (STT/LLM): the user waits for the answer; barge-in starts at audio
        if voiced:
            if not self._utterance:
                self._utterance.extend(self._pre_roll)
            self._utterance.append(chunk)
            self._speech_ms += VAD_CHUNK_MS
            self._silence_ms, self._judgement = 0, None  # a verdict on an earlier pause no longer counts
            self._drop_early()  # ...nor a transcription that ends before this speech
            self._maybe_partial()
        elif self._utterance:
            self._utterance.append(chunk)
            self._silence_ms += VAD_CHUNK_MS
            if self._silence_ms >= JUDGE_AFTER_MS:
                self._start_judgement()
                self._start_early_transcript()
            short_pause = END_OF_TURN_MS if self.turn_detector is not None else PAUSE_ONLY_END_MS
            if self._silence_ms >= UNFINISHED_PAUSE_MS or (self._silence_ms >= short_pause and await self._sounds_finished()):
                await self._end_of_turn()
        else:
            self._pre_roll = [*self._pre_roll[-(PRE_ROLL_CHUNKS - 1):], chunk]
        if len(self._utterance) * VAD_CHUNK_MS >= MAX_UTTERANCE_S * 1000:
            await self._end_of_turn()

    def _maybe_partial(self) -> None:
        if not self.partial_every_ms or self._speech_ms - self._partial_at_ms < self.partial_every_ms:
            return
        if self._partial_task is not None and not self._partial_task.done():
            return  # one at a time: the next one starts with the next voiced chunk
        self._partial_at_ms = self._speech_ms
        self._partial_task = asyncio.ensure_future(self._partial(np.concatenate(self._utterance), self._utterance_no))

    async def _partial(self, audio: np.ndarray, utterance_no: int) -> None:
        try:
            transcript = await self.stt.transcribe(audio, sample_rate=16000, language=self.language)
        except EngineUnavailable:
            return  # the final transcription reports it
        finally:
            del audio
        text = transcript.text.strip()
        if text and utterance_no == self._utterance_no and not self.closed:
            await self.send({"type": "partial_transcript", "text": text})

    def _start_judgement(self) -> None:
        """Once per pause: ask the detector, off the loop (CPU-bound, ~120 ms), whether the
        utterance so far sounds like a finished turn. Mic chunks go on being read meanwhile."""
        if self._judgement is not None or self.turn_detector is None or self._speech_ms < MIN_SPEECH_MS:
            return
        audio = np.concatenate(self._utterance)
        self._judgement = asyncio.get_running_loop().run_in_executor(None, self.turn_detector.is_complete, audio)

    def _start_early_transcript(self) -> None:
        """Once per pause: transcribe the utterance now, beside the detector, rather than after the
        pause has ended the turn (saves END_OF_TURN_MS - JUDGE_AFTER_MS of every reply's wait).
        Only the pause's silence comes after it, which Whisper does not hear; if the user speaks
        again the result is dropped (a transcription still queued is cancelled)."""
        if self._early is not None or self._speech_ms < MIN_SPEECH_MS:
            return
        audio = np.concatenate(self._utterance)
        self._early = asyncio.ensure_future(self.stt.transcribe(audio, sample_rate=16000, language=self.language))

    def _drop_early(self) -> None:
        early, self._early = self._early, None
        if early is None:
            return
        if not early.done():
            early.cancel()
        elif not early.cancelled():
            early.exception()  # retrieved: a failure is reported by the transcription that counts

    async def _sounds_finished(self) -> bool:
        """At the short pause: the detector's verdict (waited for if it is still running)."""
        if self.turn_detector is None or self._speech_ms < MIN_SPEECH_MS:
            return True  # (a blip too short to be a turn is dropped at once by _end_of_turn)
        self._start_judgement()
        return await self._judgement  # mic chunks wait meanwhile, and are judged right after

    def _speaking_turn(self) -> bool:
        return self.busy and self.speaker is not None and bool(self.speaker.visible) and self.turn_task is not None

    async def _while_talking(self, chunk: np.ndarray, voiced: bool) -> None:
        level = float(np.sqrt(np.mean(chunk * chunk)))
        speech = voiced and level >= ECHO_RATIO * self.playout.level
        self._barge.append(speech)
        if not any(self._barge):
            self._utterance.clear()  # a real pause (or only echo): no interruption under way
            return
        self._utterance.append(chunk)  # the interruption is also the start of the next turn
        if sum(self._barge) * VAD_CHUNK_MS >= BARGE_IN_MS:
            await self.barge_in(reason="speech")

    async def _end_of_turn(self) -> None:
        audio = np.concatenate(self._utterance) if self._utterance else np.zeros(0, dtype=np.float32)
        speech_ms = self._speech_ms
        self._utterance, self._pre_roll, self._speech_ms, self._silence_ms, self._judgement = [], [], 0, 0, None
        early, self._early = self._early, None
        self._utterance_no += 1
        self._partial_at_ms = 0
        if speech_ms < MIN_SPEECH_MS:
            return
        if self.on_turn_start is not None:
            self.on_turn_start()
        self.busy = True
        self.turn_task = asyncio.ensure_future(self._turn(audio, early))

    # --- a turn ----------------------------------------------------------------------------------
    async def _turn(self, audio: np.ndarray, early: asyncio.Task[Transcript] | None = None) -> None:
        try:
            try:
                transcript = await (early or self.stt.transcribe(audio, sample_rate=16000, language=self.language))
            except EngineUnavailable as exc:
                await self.send({"type": "error", "code": "stt_unavailable", "message": str(exc), "details": None})
                return
            finally:
                del audio  # the user's voice lives no longer than its transcription
            text = transcript.text.strip()
            if not text:
                return
            await self.send({"type": "final_transcript", "text": text})
            await self._reply(text)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("voice turn failed")
            await self.send({"type": "error", "code": "server_error", "message": "Something went wrong on our side.", "details": None})
        finally:
            self.busy = False
            self.turns_done += 1

    async def _reply(self, text: str) -> None:
        self.cancel = asyncio.Event()
        self.speaker = _Speaker(self)
        self.playout.new_reply()
        self.clauses = asyncio.Queue()
        speaking = asyncio.ensure_future(self._speak())
        try:
            await run_turn(TurnRequest(user=self.user, conversation_id=self.conversation_id, text=text, cancel=self.cancel), self.speaker)
            if not self.cancel.is_set():
                for clause in self.speaker.splitter.flush():
                    await self.clauses.put(clause)
            await self.clauses.put(None)
            await speaking
            # Wait until the last clause has been played (or cut) before listening for a new turn.
            while self.playout.playing and not self.cancel.is_set():
                await asyncio.sleep(0.02)
        finally:
            speaking.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await speaking
        if not self.cancel.is_set():
            await self.send({"type": "bot_speaking", "speaking": False, "reply_id": self.speaker.reply_id})
            if self.speaker.reply_id is not None:
                await self.announce(self.speaker.reply_id)

    async def _speak(self) -> None:
        first = True
        while True:
            clause = await self.clauses.get()
            if clause is None or self.cancel is None or self.cancel.is_set():
                return
            pcm, visemes, rate, offset = bytearray(), [], 0, 0
            async with contextlib.aclosing(self.tts.stream(clause, voice=self.voice, speed=self.speed)) as stream:
                async for chunk in stream:
                    if self.cancel.is_set():
                        return
                    rate = chunk.sample_rate
                    pcm += chunk.pcm
                    visemes.extend(e.shifted(offset).as_dict() for e in chunk.visemes)
                    offset += chunk.duration_ms
            if not pcm:
                continue
            reply_id = self.speaker.reply_id if self.speaker else None
            events = [{"type": "visemes", "reply_id": reply_id, "text": clause, "duration_ms": offset, "visemes": visemes}]
            if first:
                events.insert(0, {"type": "bot_speaking", "speaking": True, "reply_id": reply_id,
                                  "emotion": self.speaker.emotion if self.speaker else "neutral"})
                first = False
            self.playout.push(Clause(text=clause, pcm=to_output_pcm(bytes(pcm), rate), events=events))

    # --- barge-in --------------------------------------------------------------------------------
    async def barge_in(self, *, reason: str) -> None:
        if self.cancel is None or self.cancel.is_set() or self.speaker is None:
            return
        self.cancel.set()  # the turn closes its upstream stream: the model server stops
        heard = self.playout.flush()
        self._barge.clear()
        reply_id = self.speaker.reply_id
        await self.send({"type": "interrupt", "reply_id": reply_id, "reason": reason, "heard": heard})
        task = self.turn_task
        if task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait({task}, timeout=30)
        if reply_id is not None:
            # The heard words, taken from the text the model wrote (the clause joins may differ in spacing).
            written = " ".join("".join(self.speaker.visible).split()).split(" ")
            keep = " ".join(written[:len(heard.split())]) if heard else ""
            try:
                await database_sync_to_async(services.truncate_reply_to_heard)(user=self.user, message_id=reply_id, text=keep)
            except AppError:
                logger.info("reply %s changed before it could be cut to what was heard", reply_id)
            await self.announce(reply_id)  # as it is kept: cut to what was heard
        # The interruption (already in _utterance) continues as the user's next turn.
        self._speech_ms = len(self._utterance) * VAD_CHUNK_MS

    async def close(self) -> None:
        self.closed = True
        if self.cancel is not None:
            self.cancel.set()
        self.playout.flush()
        for task in (self.turn_task, self._partial_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        self._drop_early()
        self._utterance, self._pre_roll = [], []
