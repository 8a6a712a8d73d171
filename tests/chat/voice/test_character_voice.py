"""A voice session speaks at the character's voice speed (the real espeak-ng engine)."""
from __future__ import annotations

import asyncio

from chat.voice.session import VoiceSession
from inference.speech import config as speech_config


async def spoken_bytes(speed: float) -> int:
    voice = next(v for v in speech_config.voices() if v.id == "ko-robot")

    async def send(_event) -> None:
        return None

    session = VoiceSession(user=None, conversation_id=None, language="ko", voice=voice, stt=None,
                           tts=speech_config.tts_engine(voice.engine), send=send, speed=speed)
    session.cancel = asyncio.Event()
    await session.clauses.put("안녕하세요, 오늘 날씨가 정말 좋네요.")
    await session.clauses.put(None)
    await session._speak()
    return sum(len(clause.pcm) for clause in session.playout.queue)


async def test_the_characters_speed_reaches_the_voice():
    normal, fast, slow = await spoken_bytes(1.0), await spoken_bytes(2.0), await spoken_bytes(0.5)
    assert normal > 0
    assert fast < 0.7 * normal < normal < 0.7 * slow, (fast, normal, slow)
