"""Turn taking in a voice session: Smart Turn decides after a short pause whether the user finished.

Real Silero VAD, the real Smart Turn model and real Piper speech; the session is fed directly
(faster than real time), and `on_turn_start` marks where it ended the user's turn.
"""
from __future__ import annotations

from collections.abc import Awaitable

import numpy as np
import pytest

from chat.voice.session import END_OF_TURN_MS, JUDGE_AFTER_MS, PAUSE_ONLY_END_MS, UNFINISHED_PAUSE_MS, VoiceSession
from inference.speech import config as speech_config
from inference.speech.audio import pcm16_to_float, resample
from inference.speech.turn import SmartTurn
from inference.speech.types import Transcript

from .conftest import DeafStt

RATE = 16000


@pytest.fixture(scope="module")
def piper():
    from inference.speech.piper_tts import PiperTts

    engine = PiperTts(model=speech_config.piper_voice_path())
    yield engine
    engine.close()


async def piper_speech(piper, text: str) -> np.ndarray:
    joe = next(v for v in speech_config.voices() if v.id == "en-joe")
    result = await piper.synthesize(text, voice=joe)
    samples = resample(pcm16_to_float(result.pcm), result.sample_rate, RATE)
    voiced = np.nonzero(np.abs(samples) > 0.01)[0]
    return samples[voiced[0]: voiced[-1] + 1]


def silence(ms: int) -> np.ndarray:
    return np.zeros(RATE * ms // 1000, dtype=np.float32)


class CountedStt:
    """Notes when each transcription was asked for (ms of audio fed so far) and passes it on to
    `engine` (one that hears nothing by default)."""

    def __init__(self, turns: Turns, engine=None) -> None:
        self.turns, self.engine = turns, engine or DeafStt()
        self.asked_at_ms: list[int] = []

    def transcribe(self, audio, *, sample_rate: int, language: str | None) -> Awaitable[Transcript]:
        # Noted when asked, not when the coroutine first runs: fed faster than real time, the
        # session only yields to the loop when it waits for Smart Turn.
        self.asked_at_ms.append(self.turns.fed_ms)
        return self.engine.transcribe(audio, sample_rate=sample_rate, language=language)


class Turns:
    """A session whose turns are only counted and their transcripts kept (no LLM or TTS behind it)."""

    def __init__(self, detector, stt=None) -> None:
        joe = next(v for v in speech_config.voices() if v.id == "en-joe")
        self.stt = CountedStt(self, stt)
        self.session = VoiceSession(user=None, conversation_id=None, language="en", voice=joe, stt=self.stt, tts=None,
                                    send=self._drop, turn_detector=detector)
        self.ended_at_ms: list[int] = []
        self.transcripts: list[str] = []
        self.fed_ms = 0
        self.session.on_turn_start = lambda: self.ended_at_ms.append(self.fed_ms)
        self.session._turn = self._transcribe_only  # the turn's LLM and TTS are not under test here

    async def _drop(self, _event) -> None:
        return None

    async def _transcribe_only(self, audio, early=None) -> None:
        """What the session's own turn does first: take the early transcription, else make one."""
        transcript = await (early or self.stt.transcribe(audio, sample_rate=RATE, language="en"))
        self.transcripts.append(transcript.text)
        self.session.busy = False

    async def feed(self, samples: np.ndarray) -> None:
        for start in range(0, samples.size, 320):  # 20 ms frames, as a WebRTC track delivers them
            frame = samples[start:start + 320]
            self.fed_ms += frame.size * 1000 // RATE
            await self.session.feed(frame)


@pytest.fixture(scope="module")
def detector():
    found = SmartTurn.shared()
    assert found is not None, "var/models/smart-turn is installed by scripts/setup.d/40-speech-models.sh"
    return found


async def test_a_finished_question_is_answered_after_the_short_pause(piper, detector):
    turns = Turns(detector)
    await turns.feed(silence(300))
    await turns.feed(await piper_speech(piper, "Where is the nearest train station?"))
    spoken_until = turns.fed_ms
    await turns.feed(silence(UNFINISHED_PAUSE_MS + 500))
    assert len(turns.ended_at_ms) == 1
    assert turns.ended_at_ms[0] - spoken_until < UNFINISHED_PAUSE_MS  # not the long pause
    await turns.session.close()


async def test_a_breath_mid_sentence_does_not_end_the_turn(piper, detector):
    turns = Turns(detector)
    await turns.feed(silence(300))
    await turns.feed(await piper_speech(piper, "So I was thinking that maybe we could"))
    broke_off_at = turns.fed_ms
    await turns.feed(silence(UNFINISHED_PAUSE_MS - 200))  # a long breath, but not long enough
    assert turns.ended_at_ms == []
    await turns.feed(await piper_speech(piper, "go to the beach tomorrow."))
    await turns.feed(silence(UNFINISHED_PAUSE_MS + 500))
    # One turn holding both halves, ended after the second.
    assert len(turns.ended_at_ms) == 1 and turns.ended_at_ms[0] > broke_off_at + UNFINISHED_PAUSE_MS
    await turns.session.close()


async def test_an_unfinished_sentence_still_ends_after_the_long_pause(piper, detector):
    turns = Turns(detector)
    await turns.feed(silence(300))
    await turns.feed(await piper_speech(piper, "and then we went to the"))
    spoken_until = turns.fed_ms
    await turns.feed(silence(UNFINISHED_PAUSE_MS + 500))
    assert len(turns.ended_at_ms) == 1
    assert turns.ended_at_ms[0] - spoken_until >= UNFINISHED_PAUSE_MS - END_OF_TURN_MS  # the VAD's hangover counts as speech
    await turns.session.close()


async def test_without_a_detector_the_short_pause_ends_every_turn(piper):
    turns = Turns(None)
    await turns.feed(silence(300))
    await turns.feed(await piper_speech(piper, "and then we went to the"))
    spoken_until = turns.fed_ms
    await turns.feed(silence(UNFINISHED_PAUSE_MS + 500))
    assert len(turns.ended_at_ms) == 1
    assert turns.ended_at_ms[0] - spoken_until < UNFINISHED_PAUSE_MS - PAUSE_ONLY_END_MS
    await turns.session.close()


@pytest.fixture(scope="module")
def whisper():
    from inference.speech.stt import WhisperStt

    return WhisperStt(english_model=speech_config.english_whisper_path(), multilingual_model=speech_config.multilingual_whisper_path())


async def test_the_transcription_starts_early_in_the_pause_and_is_the_turns(piper, detector, whisper):
    """Whisper starts JUDGE_AFTER_MS into the pause, beside Smart Turn, not once the pause has
    ended the turn; the turn uses that transcription instead of making a second one."""
    turns = Turns(detector, whisper)
    await turns.feed(silence(300))
    await turns.feed(await piper_speech(piper, "Where is the nearest train station?"))
    spoken_until = turns.fed_ms
    await turns.feed(silence(UNFINISHED_PAUSE_MS + 500))
    await turns.session.turn_task
    assert len(turns.ended_at_ms) == 1 and len(turns.stt.asked_at_ms) == 1
    asked_after = turns.stt.asked_at_ms[0] - spoken_until
    assert JUDGE_AFTER_MS <= asked_after < END_OF_TURN_MS  # the VAD's hangover adds a chunk or two
    assert turns.stt.asked_at_ms[0] < turns.ended_at_ms[0]
    assert "train station" in turns.transcripts[0].lower()
    await turns.session.close()


async def test_speech_after_the_early_transcription_is_transcribed_with_it(piper, detector, whisper):
    """A breath mid-sentence: the transcription started in it is dropped when the user goes on,
    and the turn's transcript holds both halves."""
    turns = Turns(detector, whisper)
    await turns.feed(silence(300))
    await turns.feed(await piper_speech(piper, "So I was thinking that maybe we could"))
    await turns.feed(silence(UNFINISHED_PAUSE_MS - 200))
    assert len(turns.stt.asked_at_ms) == 1 and turns.ended_at_ms == []
    await turns.feed(await piper_speech(piper, "go to the beach tomorrow."))
    await turns.feed(silence(UNFINISHED_PAUSE_MS + 500))
    await turns.session.turn_task
    assert len(turns.stt.asked_at_ms) == 2 and len(turns.transcripts) == 1
    text = turns.transcripts[0].lower()
    assert "thinking" in text and "beach" in text
    await turns.session.close()


async def test_partial_transcripts_caption_the_words_so_far(piper, whisper):
    turns = Turns(None, whisper)
    turns.session.partial_every_ms = 700
    sent: list[dict] = []

    async def keep(event) -> None:
        sent.append(event)

    turns.session._send = keep
    speech = await piper_speech(piper, "Please remind me to buy fresh bread and milk on the way home tomorrow evening.")
    half = speech.size // 2
    await turns.feed(silence(300))
    await turns.feed(speech[:half])
    await turns.session._partial_task  # the caption of the first half (fed faster than real time)
    first = [e["text"] for e in sent if e["type"] == "partial_transcript"]
    assert first and "remind" in first[-1].lower() and "evening" not in first[-1].lower()
    assert turns.ended_at_ms == []  # still the same turn
    # A partial that comes back after its turn ended is dropped: the final transcript is the truth.
    await turns.feed(speech[half:])
    await turns.feed(silence(UNFINISHED_PAUSE_MS))
    assert len(turns.ended_at_ms) == 1
    count = len([e for e in sent if e["type"] == "partial_transcript"])
    await turns.session._partial(speech, turns.session._utterance_no - 1)  # one of the ended utterance
    assert len([e for e in sent if e["type"] == "partial_transcript"]) == count
    await turns.session.close()


async def test_no_partials_when_they_are_off(piper, whisper):
    turns = Turns(None, whisper)  # partial_every_ms stays 0
    sent: list[dict] = []

    async def keep(event) -> None:
        sent.append(event)

    turns.session._send = keep
    await turns.feed(await piper_speech(piper, "Please remind me to buy fresh bread and milk on the way home tomorrow evening."))
    assert turns.session._partial_task is None and sent == []
    await turns.session.close()

