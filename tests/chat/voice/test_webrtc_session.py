"""A voice conversation end to end over WebRTC: a scripted aiortc client speaks espeak-ng audio
into its microphone track; the worker transcribes it, runs the chat turn (the fake OpenAI server
answers), speaks the reply; the client transcribes what it heard and compares."""
from __future__ import annotations

import asyncio
import time

import pytest
from channels.db import database_sync_to_async

from chat.models import Message
from chat.voice.client import ScriptedVoiceClient
from inference.speech import config as speech_config
from tests.support.fake_openai import STORY

from . import privacy
from .conftest import open_socket, speak, words

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


async def start_client(conversation, user, language: str) -> tuple[ScriptedVoiceClient, object]:
    ws = await open_socket(conversation.pk, user, f"language={language}")
    client = ScriptedVoiceClient(ws.send_json_to, lambda: ws.receive_json_from(timeout=3600))
    ready = await client.connect()
    assert ready["transport"] == "webrtc" and ready["language"] == language
    return client, ws


def overlap(expected: str, got: str) -> float:
    """Share of the expected words (English) or Hangul syllables (Korean) found in `got`."""
    units = [c for c in expected if "가" <= c <= "힣"] or words(expected)
    found = set(got) if "가" <= units[0] <= "힣" else set(words(got))
    return sum(u in found for u in units) / len(units)


def history(conversation) -> list[tuple[str, str, str]]:
    return list(Message.objects.filter(conversation=conversation).order_by("seq").values_list("role", "text", "status"))


@pytest.mark.parametrize(("language", "said", "reply", "key_words"), [
    ("en", "What is your favorite color?", "[happy] My favorite color is blue, like the sea.", ["favorite", "color", "blue", "sea"]),
    ("ko", "안녕하세요 반갑습니다", "[happy] 반갑습니다. 오늘 날씨가 좋네요.", ["반", "갑", "습", "니", "다", "오", "늘", "날", "씨", "좋"]),
])
async def test_spoken_question_gets_the_spoken_reply(voice_worker, user, conversation, fake_llm, language, said, reply, key_words, caplog):
    fake_llm.reply(reply)
    client, ws = await start_client(conversation, user, language)
    try:
        client.mic.say(speak(said, language, speed=120 if language == "ko" else 140))
        transcript = await client.wait_for(lambda e: e["type"] == "final_transcript", timeout=90)
        assert overlap(said, transcript["text"]) >= 0.5, transcript
        emotion = await client.wait_for(lambda e: e["type"] == "emotion")
        assert emotion["emotion"] == "happy"
        first_clause = await client.wait_for(lambda e: e["type"] == "visemes")
        assert first_clause["visemes"] and {v["viseme"] for v in first_clause["visemes"]} - {"silence"}
        done = await client.wait_for(lambda e: e["type"] == "bot_speaking" and e["speaking"] is False, timeout=120)
        heard_audio = client.audio_between(first_clause["_at"] - 0.5, done["_at"])
        stt = speech_config.stt_engine()
        heard = await stt.transcribe(heard_audio.tobytes(), sample_rate=48000, language=language)
        reply_text = reply.split("] ", 1)[1]
        expected = words(reply_text)
        # English by words; Korean (a robot voice into Whisper base) by syllables.
        got = set(words(heard.text)) if language == "en" else set(heard.text)
        assert sum(w in got for w in key_words) >= len(key_words) * 0.6, (heard.text, expected)
    finally:
        await client.close()
        await ws.disconnect()
    rows = await database_sync_to_async(history)(conversation)
    assert rows[-2] == ("user", transcript["text"], "complete")
    assert rows[-1] == ("assistant", reply_text, "complete")
    # Privacy: only the transcript was kept; no audio in the database, Redis, storage or logs.
    await asyncio.sleep(1.0)  # the worker ends the session
    assert await database_sync_to_async(privacy.db_binary_values)() == []
    assert privacy.redis_blobs() == []
    assert privacy.media_audio_files() == []
    assert not any(magic in caplog.text.encode() for magic in privacy.AUDIO_MAGIC)


async def test_barge_in_stops_the_audio_and_keeps_only_what_was_heard(voice_worker, user, conversation, fake_llm):
    long_reply = ("Once upon a time there was a little boat. It sailed across the wide blue sea every morning. "
                  "The fishermen loved it very much. One day a storm came over the hills. The boat was brave and strong. "
                  "It brought everyone home safely before night.")
    # Slow tokens: the model is still writing when the user interrupts.
    fake_llm.reply("[neutral] " + long_reply, token_rate=3)
    client, ws = await start_client(conversation, user, "en")
    try:
        client.mic.say(speak("Tell me a story please.", "en"))
        first = await client.wait_for(lambda e: e["type"] == "visemes", timeout=90)
        # Let the character speak a little, then talk over it.
        while client.first_voiced_after(first["_at"]) is None or time.monotonic() - client.first_voiced_after(first["_at"]) < 1.5:
            await asyncio.sleep(0.1)
        index = len(client.events)
        client.mic.say(speak("Wait, stop, I have a question.", "en"))
        interrupt = await client.wait_for(lambda e: e["type"] == "interrupt", timeout=60, after=index)
        assert interrupt["reason"] == "speech"
        # The audio stops: after the interrupt only what was already on the wire arrives, until
        # the character answers the interruption (its next reply starts with bot_speaking).
        await asyncio.sleep(2.0)
        after = client.events.index(interrupt) + 1
        following = [e for e in client.events[after:] if e["type"] == "bot_speaking" and e["speaking"]]
        until = following[0]["_at"] if following else time.monotonic()
        assert until - interrupt["_at"] > 0.5
        assert client.voiced_ms(interrupt["_at"], until) <= 300
        heard = interrupt["heard"]
    finally:
        await client.close()
        await ws.disconnect()
    rows = await database_sync_to_async(history)(conversation)
    story = [r for r in rows if r[0] == "assistant" and r[1] and long_reply.startswith(r[1].rstrip("."))]
    assert story, rows
    kept = story[-1]
    assert kept[2] == "cancelled", rows
    assert kept[1] == " ".join(long_reply.split()[:len(heard.split())])
    assert 0 < len(kept[1]) < len(long_reply)
    # The upstream LLM request was closed (the model server was told to stop).
    story_request = fake_llm.completions[0]
    assert story_request.disconnected and story_request.tokens_sent < len(long_reply.split())


def _first_voiced(samples, seconds: float):
    """The first `seconds` of speech in a clip (from its first voiced sample on)."""
    import numpy as np

    start = int(np.argmax(np.abs(samples) > 0.02))
    return samples[start:start + int(seconds * 16000)]


@pytest.mark.parametrize("browser_vad", [True, False])
async def test_the_pages_vad_interrupts_on_speech_too_short_for_the_workers_rule(voice_worker, user, conversation, fake_llm, browser_vad):
    """200 ms of "Wait" over the character: under the worker's 256 ms rule, so only the page's own
    VAD (`barge_in` on the DataChannel, as the chat page sends it) can interrupt. The same client
    without it is the control: nothing interrupts."""
    fake_llm.reply("[neutral] " + STORY, token_rate=3)
    ws = await open_socket(conversation.pk, user, "language=en")
    client = ScriptedVoiceClient(ws.send_json_to, lambda: ws.receive_json_from(timeout=3600), browser_vad=browser_vad)
    await client.connect()
    try:
        client.mic.say(speak("Tell me a story please.", "en"))
        first = await client.wait_for(lambda e: e["type"] == "visemes", timeout=90)
        while client.first_voiced_after(first["_at"]) is None or time.monotonic() - client.first_voiced_after(first["_at"]) < 1.0:
            await asyncio.sleep(0.1)
        index = len(client.events)
        client.mic.say(_first_voiced(speak("Wait, stop, I have a question.", "en"), 0.2))
        await client.mic.spoken.wait()
        if browser_vad:
            interrupt = await client.wait_for(lambda e: e["type"] == "interrupt", timeout=60, after=index)
            assert interrupt["reason"] == "browser_vad"
            assert len(client.barge_ins_sent) == 1
        else:
            await asyncio.sleep(3.0)
            assert [e for e in client.events[index:] if e["type"] == "interrupt"] == []
            assert client.barge_ins_sent == []
    finally:
        await client.close()
        await ws.disconnect()
