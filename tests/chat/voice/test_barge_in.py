"""Barge-in while the character's audio plays: real Silero VAD, real Piper speech on both sides.

The session is fed directly, 20 ms of microphone per 20 ms read out of its playout (the audio
clock), so the echo guard compares the mic with what is really playing at that moment.
"""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

import numpy as np

from chat.voice.playout import Clause
from chat.voice.session import VoiceSession, to_output_pcm
from inference.speech import config as speech_config
from inference.speech.audio import pcm16_to_float, resample

from .conftest import DeafStt
from .test_turn_taking import piper, piper_speech, silence  # noqa: F401  (piper is a fixture)

RATE = 16000
STORY = "Once upon a time there was a little boat that sailed across the wide blue sea every morning."


async def _character_talking(piper_engine) -> tuple[VoiceSession, list[dict], np.ndarray]:
    """A session in the middle of a reply that has finished generating and is still playing."""
    joe = next(v for v in speech_config.voices() if v.id == "en-joe")
    sent: list[dict] = []

    async def send(event: dict) -> None:
        sent.append(event)

    session = VoiceSession(user=None, conversation_id=None, language="en", voice=joe, stt=DeafStt(), tts=None, send=send)
    reply = await piper_engine.synthesize(STORY, voice=joe)
    session.playout.push(Clause(text=STORY, pcm=to_output_pcm(reply.pcm, reply.sample_rate)))
    session.cancel = asyncio.Event()
    session.speaker = SimpleNamespace(reply_id=None, visible=[STORY], emotion="neutral")
    bot = resample(pcm16_to_float(reply.pcm), reply.sample_rate, RATE)
    return session, sent, bot


async def _feed_while_playing(session: VoiceSession, mic: np.ndarray) -> None:
    for start in range(0, mic.size, 320):
        session.playout.read()  # the playout clock moves 20 ms per 20 ms of microphone
        await session.feed(mic[start:start + 320])


async def test_speech_with_quiet_closures_interrupts_the_playing_reply(piper):  # noqa: F811
    session, sent, _bot = await _character_talking(piper)
    words = await piper_speech(piper, "Wait, stop please.")
    await _feed_while_playing(session, np.concatenate([silence(1000), 0.8 * words, silence(300)]))
    interrupts = [e for e in sent if e["type"] == "interrupt"]
    assert [e["reason"] for e in interrupts] == ["speech"]
    assert not session.playout.playing  # the queued audio was dropped


async def test_the_characters_own_echo_does_not_interrupt_it(piper):  # noqa: F811
    session, sent, bot = await _character_talking(piper)
    # The speaker's sound coming back into the mic at a tenth of its level (under the echo guard).
    await _feed_while_playing(session, 0.1 * bot[: RATE * 3])
    assert [e for e in sent if e["type"] == "interrupt"] == []
    assert session.playout.playing
