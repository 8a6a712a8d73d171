"""The WebSocket PCM fallback (no UDP, no TURN): 20 ms 16 kHz frames both ways on the voice
socket. And privacy: after the conversation no audio is left in storage, the database, Redis or
the logs (the user's voice is only ever in memory)."""
from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import time

import numpy as np
import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection

from chat import events
from chat.models import Message
from inference.speech import config as speech_config

from .conftest import open_socket, speak, words

pytestmark = [
    pytest.mark.django_db(transaction=True), pytest.mark.slow,
]

FRAME_BYTES = 640


class PcmClient:
    def __init__(self, ws) -> None:
        self.ws = ws
        self.frames: list[tuple[float, bytes]] = []
        self.events: list[dict] = []
        self.outgoing = np.zeros(0, dtype="<i2")
        self.sent_voiced: list[bytes] = []
        self.sent_count = 0

    def say(self, samples: np.ndarray) -> None:
        self.outgoing = np.concatenate([self.outgoing, (np.clip(samples, -1, 1) * 32767).astype("<i2")])

    async def pump(self, seconds: float) -> None:
        """Send real-time frames (speech, then silence) and collect what comes back."""
        start = time.monotonic()
        count = 0
        while time.monotonic() - start < seconds:
            frame = self.outgoing[:320]
            self.outgoing = self.outgoing[320:]
            pcm = np.zeros(320, dtype="<i2")
            pcm[:frame.size] = frame
            if np.abs(pcm).max() > 2000:
                self.sent_voiced.append(pcm.tobytes())
            await self.ws.send_to(bytes_data=pcm.tobytes())
            self.sent_count += 1
            count += 1
            await self.drain(start + count * 0.02 - time.monotonic())
            if any(e.get("type") == "bot_speaking" and e.get("speaking") is False for e in self.events):
                return

    async def drain(self, wait: float) -> None:
        """Take what the socket sent, without a receive timeout (asgiref's timeout would cancel
        the consumer), then wait until the next frame is due."""
        while not self.ws.output_queue.empty():
            message = self.ws.output_queue.get_nowait()
            if message.get("bytes") is not None:
                self.frames.append((time.monotonic(), message["bytes"]))
            elif message.get("text") is not None:
                self.events.append(json.loads(message["text"]))
        await asyncio.sleep(max(0.0, wait))


async def test_every_relayed_frame_reaches_a_worker_in_the_same_process_as_the_socket(voice_worker, user, conversation):
    """Regression: the socket's consumer and the worker's session both wait on channel-layer
    receives in one process (as when a voice worker shares a process with sockets). The session's
    channel used to live on its own Redis list, which the consumer's receive, holding
    channels-redis's per-process receive lock, never read: one frame got through, then none."""
    ws = await open_socket(conversation.pk, user, "language=en&transport=pcm")
    ready = await ws.receive_json_from(timeout=10)
    assert ready["type"] == "ready"
    silence = bytes(FRAME_BYTES)
    for _ in range(40):
        await ws.send_to(bytes_data=silence)
        await asyncio.sleep(0.02)
    for _ in range(500):  # the frames are in flight through Redis; wait for them, not a time
        if voice_worker.pcm_frames_in >= 40:
            break
        await asyncio.sleep(0.02)
    assert voice_worker.pcm_frames_in == 40
    await ws.disconnect()


async def test_pcm_socket_carries_the_conversation_and_leaves_no_audio(voice_worker, user, conversation, fake_llm, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    fake_llm.reply("[happy] The weather is sunny today.")
    ws = await open_socket(conversation.pk, user, "language=en&transport=pcm")
    ready = await ws.receive_json_from(timeout=10)
    assert ready["type"] == "ready" and ready["transport"] == "pcm"
    # The chat page's socket listens on the conversation's group: the turn's messages are announced there.
    layer = get_channel_layer()
    chat_socket = await layer.new_channel()
    await layer.group_add(events.group_name(conversation.pk), chat_socket)
    client = PcmClient(ws)
    client.say(speak("How is the weather today?", "en"))
    await client.pump(90)
    await client.drain(0)
    announced = [await asyncio.wait_for(layer.receive(chat_socket), 10) for _ in range(2)]
    stored = await database_sync_to_async(lambda: list(Message.objects.filter(conversation=conversation, seq__gt=0).order_by("seq").values_list("pk", "role")))()
    turn = [pk for pk, _role in stored[-2:]]
    assert [m["message_id"] for m in announced] == turn and [r for _pk, r in stored[-2:]] == ["user", "assistant"], (announced, stored)
    assert {m["type"] for m in announced} == {events.MESSAGE}
    types = [e["type"] for e in client.events]
    assert voice_worker.pcm_frames_in > 100, (voice_worker.pcm_frames_in, client.sent_count)
    assert "final_transcript" in types and "emotion" in types and "visemes" in types, types
    assert types.index("visemes") < types.index("bot_speaking") + 2
    assert client.frames and all(len(pcm) == FRAME_BYTES for _at, pcm in client.frames)
    heard = await speech_config.stt_engine().transcribe(b"".join(p for _a, p in client.frames), sample_rate=16000, language="en")
    assert {"weather", "sunny", "today"} <= set(words(heard.text)), heard.text
    # A wrong-sized frame is refused in our error family.
    await ws.send_to(bytes_data=b"\x00" * 100)
    error = await ws.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == "invalid_frame" and error["details"] == {"bytes": 100}
    await ws.disconnect()
    await asyncio.sleep(0.5)  # the worker ends the session

    # --- privacy: the user's voice is nowhere -------------------------------------------------
    assert len(client.sent_voiced) > 20
    samples = [client.sent_voiced[i][100:132] for i in (5, len(client.sent_voiced) // 2, -5)]
    needles = [*samples, *(base64.b64encode(s)[:40] for s in samples), *(s.hex().encode() for s in samples)]

    def db_dump() -> bytes:
        out = []
        with connection.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            for (table,) in cursor.fetchall():
                cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from the catalog
                for row in cursor.fetchall():
                    out.append(b"|".join(bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row))
        return b"\n".join(out)

    dump = await database_sync_to_async(db_dump)()
    rows = await database_sync_to_async(lambda: list(Message.objects.filter(conversation=conversation).values_list("text", flat=True)))()
    assert any("weather" in text.lower() for text in rows)  # the transcript is kept, as text
    assert b"weather" in dump.lower()  # control: the dump does see what is stored
    assert not [n for n in needles if n in dump]

    import redis

    r = redis.Redis.from_url(settings.REDIS_URL)
    stored = b"".join((r.dump(key) or b"") for key in r.scan_iter("*"))
    assert not [n for n in samples if n in stored]
    assert r.llen("voice:requests") == 0

    for root in (settings.MEDIA_ROOT, tmp_path):
        for folder, _dirs, files in os.walk(root):
            for name in files:
                data = open(os.path.join(folder, name), "rb").read()  # noqa: SIM115
                assert not data.startswith((b"RIFF", b"OggS")), name
                assert not [n for n in needles if n in data], name
    logged = caplog.text.encode()
    assert not [n for n in needles if n in logged]
