"""The voice socket without a worker: auth, ownership, validation, and `no_voice_worker`."""
from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from chat.voice import dispatch

from .conftest import app, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


async def test_unauthenticated_socket_is_refused(conversation):
    ws = WebsocketCommunicator(app, f"/ws/voice/{conversation.pk}/")
    connected, _ = await ws.connect(timeout=5)
    assert connected
    frame = await ws.receive_json_from(timeout=5)
    assert frame["code"] == "not_authenticated"
    assert (await ws.receive_output(timeout=5))["code"] == 4401


async def test_someone_elses_conversation_is_not_found(conversation, other_user):
    ws = await open_socket(conversation.pk, other_user)
    frame = await ws.receive_json_from(timeout=5)
    assert (frame["type"], frame["code"]) == ("error", "not_found")
    assert (await ws.receive_output(timeout=5))["code"] == 4404


async def test_unknown_transport_is_invalid(conversation, user):
    ws = await open_socket(conversation.pk, user, "language=en&transport=carrier-pigeon")
    frame = await ws.receive_json_from(timeout=5)
    assert frame["code"] == "invalid" and frame["details"]["transport"] == ["webrtc", "pcm"]


async def test_no_worker_answers_no_voice_worker_and_leaves_no_request(conversation, user, monkeypatch, settings):
    import redis

    monkeypatch.setattr(dispatch, "CLAIM_TIMEOUT", 0.3)
    ws = await open_socket(conversation.pk, user)
    frame = await ws.receive_json_from(timeout=5)
    assert (frame["type"], frame["code"]) == ("error", "no_voice_worker")
    assert (await ws.receive_output(timeout=5))["code"] == 4503
    assert redis.Redis.from_url(settings.REDIS_URL).llen(dispatch.REQUESTS) == 0


async def test_signaling_before_a_worker_joined_is_not_ready(conversation, user):
    ws = await open_socket(conversation.pk, user)
    await ws.send_json_to({"type": "offer", "sdp": "v=0"})
    frame = await ws.receive_json_from(timeout=5)
    assert frame["code"] == "not_ready"
    await ws.disconnect()
