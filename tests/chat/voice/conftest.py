"""Voice test fixtures: an in-process voice worker, the voice socket, espeak-ng speech."""
from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess

import numpy as np
import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from accounts.services import create_api_token
from avatarforge.ws_auth import WebSocketAuthMiddleware
from chat import routing
from inference.speech.audio import read_wav, resample
from inference.speech.types import Transcript

app = WebSocketAuthMiddleware(URLRouter(routing.websocket_urlpatterns))


class DeafStt:
    """An STT that hears nothing, for sessions whose transcriptions are not under test."""

    async def transcribe(self, audio, *, sample_rate: int = 16000, language: str | None = None) -> Transcript:
        return Transcript(text="", language=language or "", audio_seconds=len(audio) / sample_rate)


def speak(text: str, language: str, *, speed: int = 140, pad_s: float = 0.3) -> np.ndarray:
    """16 kHz float samples of `text` spoken by espeak-ng, with a little silence around it."""
    wav = subprocess.run(["espeak-ng", "-v", language, "-s", str(speed), "--stdout"], input=text.encode(), capture_output=True, check=True).stdout
    samples, rate = read_wav(wav)
    pad = np.zeros(int(16000 * pad_s), dtype=np.float32)
    return np.concatenate([pad, resample(samples, rate, 16000) * 0.8, pad])


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9가-힣']+", text.lower())


@pytest.fixture(autouse=True)
async def _fresh_layers(settings):
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in [*client.scan_iter("voice:*"), *client.scan_iter("chat:slots:*")]:
        client.delete(key)
    channel_layers.backends.clear()
    yield
    for layer in list(channel_layers.backends.values()):
        close = getattr(layer, "close_pools", None)
        if close is not None:
            await close()
    channel_layers.backends.clear()


@pytest.fixture
async def voice_worker(transactional_db):
    from chat.voice.rtc import allow_loopback_candidates
    from chat.voice.worker import VoiceWorker

    allow_loopback_candidates(only=True)
    worker = VoiceWorker(max_sessions=2)
    task = asyncio.ensure_future(worker.run())
    yield worker
    worker.stop()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(task, 20)


@database_sync_to_async
def token_for(user) -> str:
    return create_api_token(user=user, name="voice")[1]


async def open_socket(conversation_id, user, query: str = "language=en") -> WebsocketCommunicator:
    headers = [(b"authorization", f"Bearer {await token_for(user)}".encode())] if user is not None else []
    ws = WebsocketCommunicator(app, f"/ws/voice/{conversation_id}/?{query}", headers=headers)
    connected, _ = await ws.connect(timeout=5)
    assert connected
    return ws
