"""/ws/story/: the story streams token by token in order, stop closes the model's stream."""
from __future__ import annotations

import asyncio
import contextlib

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from accounts.services import create_api_token
from avatarforge.ws_auth import WebSocketAuthMiddleware
from chat import routing
from inference import slots
from tests.support.fake_openai import split_tokens, varied_words

pytestmark = pytest.mark.django_db(transaction=True)

app = WebSocketAuthMiddleware(URLRouter(routing.websocket_urlpatterns))
_open: list[WebsocketCommunicator] = []

STORY = "## Chapter 1: 시작\n옛날 옛적에 기사가 살았습니다.\n\n## Chapter 2: 끝\n기사는 용을 만났습니다.\n"


@pytest.fixture(autouse=True)
async def _close_sockets():
    yield
    while _open:
        with contextlib.suppress(Exception):
            await _open.pop().disconnect(timeout=2)


async def connect(user=None) -> WebsocketCommunicator:
    headers = []
    if user is not None:
        token = await database_sync_to_async(lambda: create_api_token(user=user, name="ws")[1])()
        headers.append((b"authorization", f"Bearer {token}".encode()))
    ws = WebsocketCommunicator(app, "/ws/story/", headers=headers)
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


async def test_the_story_streams_token_by_token_in_order_then_its_chapters(user, fake_llm):
    fake_llm.reply(STORY, token_rate=200)
    ws = await connect(user)
    assert await ws.receive_json_from(timeout=5) == {"type": "ready"}
    await ws.send_json_to({"type": "generate", "prompt": "용감한 기사", "length": "short", "style": "fairy_tale"})
    done, frames = await recv_until(ws, "done")
    assert [f["type"] for f in frames[:2]] == ["start", "token"]
    assert [f["text"] for f in frames if f["type"] == "token"] == split_tokens(STORY)
    assert done["story"]["chapters"] == [
        {"title": "Chapter 1: 시작", "text": "옛날 옛적에 기사가 살았습니다."},
        {"title": "Chapter 2: 끝", "text": "기사는 용을 만났습니다."},
    ]
    assert (done["story"]["word_count"], done["story"]["language"], done["story"]["end"]) == (7, "ko", "complete")
    assert "a fairy tale" in fake_llm.completions[-1].messages[0]["content"]


async def test_stop_closes_the_upstream_stream_and_frees_the_slot(user, fake_llm):
    scripted = fake_llm.reply(varied_words(400, "Once"), token_rate=40)
    ws = await connect(user)
    await ws.receive_json_from(timeout=5)
    await ws.send_json_to({"type": "generate", "prompt": "A long tale", "length": "long"})
    await recv_until(ws, "token")
    await ws.send_json_to({"type": "cancel"})
    await recv_until(ws, "cancelled")
    request = fake_llm.completions[-1]
    for _ in range(100):
        if request.disconnected:
            break
        await asyncio.sleep(0.05)
    assert request.disconnected and request.tokens_sent < len(scripted.pieces())
    assert (await slots.astats(fake_llm.base_url)).in_flight == 0
    # The socket stays usable: the next story is written.
    fake_llm.reply("A short one.")
    await ws.send_json_to({"type": "generate", "prompt": "Another"})
    done, _frames = await recv_until(ws, "done")
    assert done["story"]["chapters"] == [{"title": "", "text": "A short one."}]


async def test_closing_the_socket_closes_the_upstream_stream(user, fake_llm):
    fake_llm.reply(varied_words(400, "Once"), token_rate=40)
    ws = await connect(user)
    await ws.receive_json_from(timeout=5)
    await ws.send_json_to({"type": "generate", "prompt": "A long tale"})
    await recv_until(ws, "token")
    await ws.disconnect(timeout=5)
    _open.remove(ws)
    request = fake_llm.completions[-1]
    for _ in range(100):
        if request.disconnected:
            break
        await asyncio.sleep(0.05)
    assert request.disconnected


async def test_bad_frames_get_the_api_codes_and_one_story_at_a_time(user, fake_llm):
    ws = await connect(user)
    await ws.receive_json_from(timeout=5)
    await ws.send_json_to({"type": "generate", "prompt": ""})
    assert (await ws.receive_json_from(timeout=5))["code"] == "story_prompt_empty"
    await ws.send_json_to({"type": "generate", "prompt": "A tale", "length": "huge"})
    assert (await ws.receive_json_from(timeout=5))["code"] == "story_bad_length"
    await ws.send_json_to({"type": "dance"})
    assert (await ws.receive_json_from(timeout=5))["code"] == "unknown_type"
    fake_llm.reply(varied_words(300, "Once"), token_rate=40)
    await ws.send_json_to({"type": "generate", "prompt": "A tale"})
    await recv_until(ws, "token")
    await ws.send_json_to({"type": "generate", "prompt": "Another tale"})
    error, _frames = await recv_until(ws, "error")
    assert error["code"] == "story_in_progress"
    assert len(fake_llm.completions) == 1


async def test_model_failures_arrive_as_error_frames(user, fake_llm):
    fake_llm.fail(500, "boom", times=10)
    ws = await connect(user)
    await ws.receive_json_from(timeout=5)
    await ws.send_json_to({"type": "generate", "prompt": "A tale"})
    error, _frames = await recv_until(ws, "error")
    assert error["code"] == "llm_upstream_error"


async def test_unauthenticated_sockets_are_closed(fake_llm):
    ws = await connect()
    frame = await ws.receive_json_from(timeout=5)
    assert frame["code"] == "not_authenticated"
    assert (await ws.receive_output(timeout=5))["code"] == 4401
