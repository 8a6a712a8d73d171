"""The chat WebSocket: streaming token by token, emotion, stop, queue positions, authorization."""
from __future__ import annotations

import asyncio
import contextlib

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from accounts.services import create_api_token
from avatarforge.ws_auth import WebSocketAuthMiddleware
from chat import routing, services
from chat.models import Message
from tests.support.fake_openai import varied_words

pytestmark = pytest.mark.django_db(transaction=True)

app = WebSocketAuthMiddleware(URLRouter(routing.websocket_urlpatterns))
_open: list[WebsocketCommunicator] = []


@pytest.fixture(autouse=True)
async def _fresh_layers():
    channel_layers.backends.clear()
    yield
    while _open:
        with contextlib.suppress(Exception):
            await _open.pop().disconnect(timeout=2)
    for layer in list(channel_layers.backends.values()):
        close = getattr(layer, "close_pools", None)
        if close is not None:
            await close()
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _clean_slots(settings):
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter("chat:slots:*"):
            client.delete(key)


@database_sync_to_async
def token_for(user) -> str:
    return create_api_token(user=user, name="ws")[1]


async def connect(conversation_id, user=None, token=None) -> WebsocketCommunicator:
    headers = []
    if user is not None:
        token = await token_for(user)
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    ws = WebsocketCommunicator(app, f"/ws/chat/{conversation_id}/", headers=headers)
    connected, _ = await ws.connect(timeout=5)
    assert connected
    _open.append(ws)
    return ws


async def recv_until(ws, kind: str, timeout: float = 10) -> tuple[dict, list[dict]]:
    seen = []
    while True:
        frame = await ws.receive_json_from(timeout=timeout)
        seen.append(frame)
        if frame["type"] == kind:
            return frame, seen
        assert frame["type"] != "error" or kind == "error", frame


@database_sync_to_async
def new_conversation(user, character, model_name=""):
    return services.create_conversation(user=user, character_id=character.pk, model_name=model_name)


@database_sync_to_async
def messages_of(conversation):
    return list(Message.objects.filter(conversation=conversation).order_by("seq").values("seq", "role", "status", "text", "emotion"))


async def test_a_reply_cut_by_the_loop_detector_says_so_in_its_done_frame(user, character, fake_llm):
    fake_llm.reply("[sad] " + "Nobody ever listens to me at all. " * 8, token_rate=400)
    conv = await new_conversation(user, character)
    ws = await connect(conv.pk, user)
    await ws.receive_json_from(timeout=5)
    await ws.send_json_to({"type": "send", "text": "Tell me"})
    done, _frames = await recv_until(ws, "done")
    # The page adds its "Cut short" note from this frame, without a reload.
    assert done["message"]["error_code"] == "reply_loop_cut"
    assert done["message"]["text"] == "Nobody ever listens to me at all."
    assert done["message"]["emotion"] == "sad"


async def test_reply_streams_token_by_token(user, character, fake_llm):
    fake_llm.reply("[excited] Oh wow, you came back!", token_rate=200)
    conv = await new_conversation(user, character)
    ws = await connect(conv.pk, user)
    ready = await ws.receive_json_from(timeout=5)
    assert ready == {"type": "ready", "conversation": str(conv.pk), "busy": False}
    await ws.send_json_to({"type": "send", "text": "I'm back!"})
    done, frames = await recv_until(ws, "done")
    kinds = [f["type"] for f in frames]
    assert kinds[:3] == ["accepted", "start", "emotion"]
    assert frames[2]["emotion"] == "excited"
    tokens = [f["text"] for f in frames if f["type"] == "token"]
    assert tokens == ["Oh", " wow,", " you", " came", " back!"]
    assert done["message"]["text"] == "Oh wow, you came back!" and done["message"]["emotion"] == "excited"
    assert done["message"]["ttft_ms"] is not None and done["message"]["queue_ms"] is not None
    rows = await messages_of(conv)
    assert [(r["role"], r["status"], r["text"]) for r in rows] == [
        ("assistant", "complete", "Hi alice! I'm Mina."),
        ("user", "complete", "I'm back!"),
        ("assistant", "complete", "Oh wow, you came back!"),
    ]
    assert fake_llm.completions[-1].stream


async def test_stop_cancels_the_reply_and_the_upstream(user, character, fake_llm):
    fake_llm.reply("[sad] " + varied_words(300, "slowly"), token_rate=40)
    conv = await new_conversation(user, character)
    ws = await connect(conv.pk, user)
    await ws.receive_json_from(timeout=5)
    await ws.send_json_to({"type": "send", "text": "Tell me a long story"})
    await recv_until(ws, "token")
    await ws.send_json_to({"type": "cancel"})
    cancelled, _frames = await recv_until(ws, "cancelled")
    assert cancelled["message"]["status"] == "cancelled"
    assert cancelled["message"]["text"].startswith("slowly")
    rows = await messages_of(conv)
    assert rows[-1]["status"] == "cancelled" and rows[-1]["emotion"] == "sad"
    for _ in range(100):
        if fake_llm.completions[-1].disconnected:
            break
        await asyncio.sleep(0.05)
    assert fake_llm.completions[-1].disconnected
    assert fake_llm.completions[-1].tokens_sent < 300
    # The conversation is free again.
    fake_llm.reply("[happy] Short one.")
    await ws.send_json_to({"type": "send", "text": "A short one then"})
    done, _ = await recv_until(ws, "done")
    assert done["message"]["text"] == "Short one."


async def test_closing_the_socket_stops_the_reply(user, character, fake_llm):
    fake_llm.reply(varied_words(300), token_rate=40)
    conv = await new_conversation(user, character)
    ws = await connect(conv.pk, user)
    await ws.receive_json_from(timeout=5)
    await ws.send_json_to({"type": "send", "text": "go"})
    await recv_until(ws, "token")
    await ws.disconnect()
    _open.remove(ws)
    for _ in range(100):
        rows = await messages_of(conv)
        if rows[-1]["status"] == "cancelled":
            break
        await asyncio.sleep(0.05)
    assert rows[-1]["status"] == "cancelled"


async def test_cancel_from_the_rest_api_reaches_the_streaming_socket(user, character, fake_llm):
    from rest_framework.test import APIClient

    fake_llm.reply(varied_words(300), token_rate=40)
    conv = await new_conversation(user, character)
    ws = await connect(conv.pk, user)
    await ws.receive_json_from(timeout=5)
    await ws.send_json_to({"type": "send", "text": "go"})
    await recv_until(ws, "token")

    def cancel():
        client = APIClient()
        client.force_authenticate(user)
        return client.post(f"/api/chat/conversations/{conv.pk}/cancel")

    response = await database_sync_to_async(cancel)()
    assert response.status_code == 202 and response.json() == {"cancelling": True}
    await recv_until(ws, "cancelled")


async def test_waiting_in_the_fair_queue_shows_the_position(user, make_user, character, make_character, fake_llm, settings):
    settings.LLM_MODELS = [fake_llm.model_config("fake", max_concurrency=1)]
    other = await database_sync_to_async(make_user)("bob@example.com")
    theirs = await database_sync_to_async(make_character)(owner=other)
    conv_a = await new_conversation(user, character)
    conv_b = await new_conversation(other, theirs)
    fake_llm.reply(varied_words(200, "first"), token_rate=50)
    fake_llm.reply("[happy] second done")
    a = await connect(conv_a.pk, user)
    b = await connect(conv_b.pk, other)
    await a.receive_json_from(timeout=5)
    await b.receive_json_from(timeout=5)
    await a.send_json_to({"type": "send", "text": "long"})
    await recv_until(a, "token")
    await b.send_json_to({"type": "send", "text": "short"})
    queued, _ = await recv_until(b, "queued")
    assert queued["position"] == 1
    rows = await messages_of(conv_b)
    assert rows[-1]["status"] == "queued"
    from inference import slots as concurrency

    stats = await database_sync_to_async(concurrency.stats)(fake_llm.base_url)
    assert (stats.in_flight, stats.waiting) == (1, 1)
    assert len(fake_llm.completions) == 1  # B has not reached the model
    await a.send_json_to({"type": "cancel"})
    await recv_until(a, "cancelled")
    done, frames = await recv_until(b, "done")
    assert done["message"]["text"] == "second done"
    assert done["message"]["queue_ms"] > 0


async def test_a_second_send_while_answering_is_refused(user, character, fake_llm):
    fake_llm.reply(varied_words(200), token_rate=50)
    conv = await new_conversation(user, character)
    ws = await connect(conv.pk, user)
    await ws.receive_json_from(timeout=5)
    await ws.send_json_to({"type": "send", "text": "one"})
    await recv_until(ws, "token")
    await ws.send_json_to({"type": "send", "text": "two"})
    error, _ = await recv_until(ws, "error")
    assert error["code"] == "reply_in_progress"
    await ws.send_json_to({"type": "cancel"})
    await recv_until(ws, "cancelled")
    rows = await messages_of(conv)
    assert [r["text"] for r in rows if r["role"] == "user"] == ["one"]


async def test_failure_before_any_token_gives_the_text_back(user, character, fake_llm):
    fake_llm.fail(401, "Incorrect API key")
    conv = await new_conversation(user, character)
    ws = await connect(conv.pk, user)
    await ws.receive_json_from(timeout=5)
    await ws.send_json_to({"type": "send", "text": "hello?"})
    error, _ = await recv_until(ws, "error")
    assert error["code"] == "llm_auth_failed"
    assert error["details"]["text"] == "hello?"
    rows = await messages_of(conv)
    assert len(rows) == 1  # only the greeting


async def test_someone_elses_conversation_is_not_found(user, other_user, character, fake_llm):
    conv = await new_conversation(user, character)
    ws = await connect(conv.pk, other_user)
    error = await ws.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == "not_found"
    closed = await ws.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4404}


async def test_unauthenticated_is_refused(user, character, fake_llm):
    conv = await new_conversation(user, character)
    ws = await connect(conv.pk)
    error = await ws.receive_json_from(timeout=5)
    assert error["code"] == "not_authenticated"
    closed = await ws.receive_output(timeout=5)
    assert closed["code"] == 4401


async def test_bad_frames(user, character, fake_llm):
    conv = await new_conversation(user, character)
    ws = await connect(conv.pk, user)
    await ws.receive_json_from(timeout=5)
    await ws.send_to(text_data="not json")
    assert (await ws.receive_json_from(timeout=5))["code"] == "invalid_json"
    await ws.send_to(text_data="[" * 1000 + "]" * 1000)  # the shared decoder's depth limit
    assert (await ws.receive_json_from(timeout=5))["code"] == "json_too_deep"
    await ws.send_json_to({"type": "dance"})
    assert (await ws.receive_json_from(timeout=5))["code"] == "unknown_type"
    await ws.send_json_to({"type": "send", "text": "x" * 4001})
    assert (await ws.receive_json_from(timeout=5))["code"] == "message_too_long"
    await ws.send_to(text_data="x" * 20000)
    assert (await ws.receive_json_from(timeout=5))["code"] == "payload_too_large"
    await ws.send_json_to({"type": "ping"})
    assert (await ws.receive_json_from(timeout=5)) == {"type": "pong"}
    assert len(await messages_of(conv)) == 1
