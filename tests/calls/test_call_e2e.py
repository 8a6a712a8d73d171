"""Calling a character end to end: a real Daphne, the real room signaling, an in-process voice
worker running the character as an aiortc peer, the embedded STT/TTS, the fake OpenAI server as
the model. The person's side is a scripted aiortc avatar peer that speaks espeak-ng audio."""
from __future__ import annotations

import asyncio
import contextlib
import json
import time

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.services import create_api_token
from bench.servers import daphne_servers
from calls import dispatch, services
from chat.models import Message
from chat.voice import dispatch as voice_dispatch
from rooms import state
from rooms.models import Room
from rooms.peer import allow_loopback_candidates
from tests.support.fake_openai import STORY

from ..characters.avatars.support import GODETTE
from ..chat.voice.conftest import speak, words
from .person import PersonPeer

needs_shared_database = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="the server shares the test database: needs PostgreSQL (DATABASE_URL), as in CI",
)
pytestmark = [pytest.mark.django_db(transaction=True), needs_shared_database, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(django_db_setup):
    with daphne_servers(1) as started:
        yield started[0]


@contextlib.asynccontextmanager
async def running_worker():
    """A voice worker in this process, announced (the API refuses at once while none is alive)."""
    from chat.voice.worker import VoiceWorker

    allow_loopback_candidates(only=True)
    worker = VoiceWorker(max_sessions=2)
    task = asyncio.ensure_future(worker.run())
    try:
        deadline = time.monotonic() + 10
        while worker.worker_id not in await sync_to_async(alive_workers)():
            assert time.monotonic() < deadline, "the worker never announced itself"
            await asyncio.sleep(0.05)
        yield worker
    finally:
        worker.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 20)


def alive_workers() -> dict:
    return voice_dispatch.health_section()["sessions"]


@pytest.fixture
async def fresh_layers(transactional_db):
    channel_layers.backends.clear()
    yield
    for layer in list(channel_layers.backends.values()):
        close = getattr(layer, "close_pools", None)
        if close is not None:
            await close()
    channel_layers.backends.clear()


@pytest.fixture
async def voice_worker(fresh_layers):
    async with running_worker() as worker:
        yield worker


async def until(predicate, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def history(conversation_id) -> list[tuple[str, str, str]]:
    return list(Message.objects.filter(conversation_id=conversation_id).order_by("seq").values_list("role", "text", "status"))


def post_call(user, character) -> tuple[int, dict]:
    client = APIClient()
    client.force_authenticate(user)
    response = client.post(f"/api/characters/{character.pk}/call")
    return response.status_code, response.json()


async def test_a_spoken_question_reaches_the_character_and_its_avatar_answers(
        server, voice_worker, user, make_character, fake_llm, settings):
    settings.PRACTICE_PEER_URL = server.http_url  # where the worker's peer finds the signaling
    reply = "[happy] My favorite color is blue, like the sea."
    fake_llm.reply(reply)
    character = await database_sync_to_async(make_character)(owner=user, name="Mina", builtin_avatar="fox", language="en")
    token = await database_sync_to_async(lambda: create_api_token(user=user, name="call")[1])()

    status, body = await sync_to_async(post_call, thread_sensitive=False)(user, character)
    assert status == 201, body
    code, conversation_id = body["room"], body["conversation"]
    assert body["url"].endswith(f"/rooms/{code}/")

    # One call at a time: a second one, even with the same character, is refused while this one runs.
    second_status, second = await sync_to_async(post_call, thread_sensitive=False)(user, character)
    assert (second_status, second["code"]) == (409, "character_call_running")

    person = PersonPeer(ws_url=f"{server.ws_base}/ws/rooms/{code}/", origin=server.http_url,
                        headers=[("Authorization", f"Bearer {token}")], send=False)
    run = asyncio.ensure_future(person.run(duration=240))
    try:
        await until(lambda: person.stats.received >= 30, "the character's frames")
        # Its avatar description: its 2D avatar, under its name.
        avatars = [m for kind, m in person.signals if kind == "avatar"]
        assert avatars and avatars[-1]["avatar"]["renderer"] == "2d"
        assert avatars[-1]["avatar"]["id"] == "builtin:fox" and avatars[-1]["avatar"]["name"] == "Mina"
        quiet_from = time.time()
        await asyncio.sleep(1.5)
        quiet = person.jaw(quiet_from, time.time())

        person.mic.say(speak("What is your favorite color?", "en"))
        await until(lambda: person.event("final_transcript") is not None, "the transcript", timeout=120)
        await until(lambda: person.event("bot_speaking", speaking=False) is not None, "the end of the reply", timeout=120)
        first = person.event("visemes")
        done = person.event("bot_speaking", speaking=False)
        assert person.event("emotion")["emotion"] == "happy"
        await asyncio.sleep(1.5)
        after = person.jaw(done["_at"] + 0.5, time.time())
        speaking = person.jaw(first["_at"], done["_at"])
        voiced = person.voiced_ms(first["_at"] - 0.5, done["_at"] + 0.5)
    finally:
        person.stop()
        await run
        await person.close()

    # The character's voice arrived, and its mouth moved with it and rests in silence.
    assert voiced > 1000, voiced
    assert quiet and max(quiet) < 0.12, max(quiet)
    assert speaking and max(speaking) > 0.3, max(speaking)
    assert after and max(after) < 0.12, max(after)
    # The person's speech became their message in the character's conversation, then the reply.
    rows = await database_sync_to_async(history)(conversation_id)
    said = person.event("final_transcript")["text"]
    assert {"favorite", "color"} <= set(words(said)), said
    assert rows[-2] == ("user", said, "complete")
    assert rows[-1] == ("assistant", reply.split("] ", 1)[1], "complete")

    # Hanging up ends the character's side: the room is closed and the user may call again.
    async def ended() -> bool:
        room = await database_sync_to_async(Room.objects.get)(code=code)
        return room.closed_at is not None and await sync_to_async(cache.get)(services.slot_key(user.pk)) is None

    deadline = time.monotonic() + 30
    while not await ended():
        assert time.monotonic() < deadline, "the character did not leave after the hang-up"
        await asyncio.sleep(0.1)
    assert voice_worker.sessions == {}




async def test_the_pages_barge_in_on_the_voice_channel_interrupts_the_character(
        server, voice_worker, user, make_character, fake_llm, settings):
    """The call page's own VAD sends `barge_in` on the character's `voice` channel (as the chat
    page does on its own): the character stops and says it was the page's VAD that cut it."""
    settings.PRACTICE_PEER_URL = server.http_url
    fake_llm.reply("[neutral] " + STORY, token_rate=4)
    character = await database_sync_to_async(make_character)(owner=user, name="Mina", builtin_avatar="fox", language="en")
    token = await database_sync_to_async(lambda: create_api_token(user=user, name="call")[1])()
    status, body = await sync_to_async(post_call, thread_sensitive=False)(user, character)
    assert status == 201, body
    person = PersonPeer(ws_url=f"{server.ws_base}/ws/rooms/{body['room']}/", origin=server.http_url,
                        headers=[("Authorization", f"Bearer {token}")], send=False)
    run = asyncio.ensure_future(person.run(duration=240))
    try:
        await until(lambda: person.stats.received >= 30, "the character's frames")
        person.mic.say(speak("Tell me a story please.", "en"))
        await until(lambda: person.event("bot_speaking", speaking=True) is not None, "the reply", timeout=120)
        assert person.event("interrupt") is None
        await asyncio.sleep(1.0)
        person.voice_channel.send(json.dumps({"type": "barge_in"}))
        await until(lambda: person.event("interrupt") is not None, "the interrupt", timeout=30)
        interrupt = person.event("interrupt")
    finally:
        person.stop()
        await run
        await person.close()
    assert interrupt["reason"] == "browser_vad"
    assert interrupt["heard"]  # a second of the story was heard and is what the history keeps



@pytest.mark.parametrize("character_offers", [False, True])
async def test_a_character_with_a_vrm_sends_its_file_when_the_page_asks(
        server, fresh_layers, user, make_character, settings, monkeypatch, _clean_voice_queue, character_offers):
    """Its `avatar` description names the VRM by hash with the license card; asked on `control`
    (as the call page asks), the character's peer sends the file on `asset`, and it is the
    announced file. Both ways round: the page offered (it opened control and asset), or the
    character did (it joined second, so it offered and opened them)."""
    from characters.avatars import services as avatar_services

    settings.PRACTICE_PEER_URL = server.http_url
    monkeypatch.setattr(dispatch, "CLAIM_TIMEOUT", 30.0)

    def make():
        avatar = avatar_services.create_avatar_from_file(owner=user, file=str(GODETTE), filename=GODETTE.name)
        character = make_character(owner=user, name="Godette", avatar=avatar, builtin_avatar="")
        return avatar, character, create_api_token(user=user, name="call")[1]

    avatar, character, token = await database_sync_to_async(make)()
    person = PersonPeer(ws_url="", origin=server.http_url, headers=[("Authorization", f"Bearer {token}")], send=False)
    run = None
    async with contextlib.AsyncExitStack() as stack:
        if character_offers:
            # The person is in the room before any worker takes the call: a worker that announced
            # itself but takes nothing lets the API queue the request; the real one starts later.
            _clean_voice_queue.zadd(voice_dispatch.WORKERS, {"not-yet": time.time()})
        else:
            await stack.enter_async_context(running_worker())
        call = asyncio.ensure_future(sync_to_async(post_call, thread_sensitive=False)(user, character))
        if character_offers:
            room = None
            while room is None:
                room = await database_sync_to_async(Room.objects.filter(owner=user, closed_at=None).first)()
                await asyncio.sleep(0.05)
            person.ws_url = f"{server.ws_base}/ws/rooms/{room.code}/"
            run = asyncio.ensure_future(person.run(duration=120))
            await until(lambda: person.joined is not None, "the person's seat")
            await stack.enter_async_context(running_worker())
        status, body = await call
        assert status == 201, body
        if run is None:
            # The character takes its seat first, so the person's side is the one that offers.
            deadline = time.monotonic() + 60
            while not any(seat is not None and seat.role == "guest" for seat in await state.get_seats(body["room"])):
                assert time.monotonic() < deadline, "the character never took its seat"
                await asyncio.sleep(0.05)
            person.ws_url = f"{server.ws_base}/ws/rooms/{body['room']}/"
            run = asyncio.ensure_future(person.run(duration=120))
        try:
            await until(lambda: any(kind == "avatar" for kind, _m in person.signals), "the avatar description")
            description = [m for kind, m in person.signals if kind == "avatar"][-1]["avatar"]
            assert description["renderer"] == "vrm" and description["fileHash"] == avatar.file_hash
            assert description["id"] == str(avatar.pk) and description["name"] == "Godette"
            assert description["license"]["card"], description  # the license card travels with it
            await until(lambda: person.control is not None and person.control.readyState == "open", "the control channel")
            assert person.assets == {}
            # The page's clock sync is answered with the character's clock (epoch ms, its frames' clock).
            person.control.send(json.dumps({"t": "ping", "id": 7, "t0": 1234.5}))
            await until(lambda: any(m.get("t") == "pong" for m in person.control_messages), "the pong")
            pong = next(m for m in person.control_messages if m.get("t") == "pong")
            assert pong["id"] == 7 and pong["t0"] == 1234.5 and pong["t1"] > 1.7e12
            person.request_asset(avatar.file_hash)
            await until(lambda: avatar.file_hash in person.assets, "the VRM file", timeout=120)
            assert person.joined["initiator"] is not character_offers
        finally:
            person.stop()
            await run
            await person.close()
    assert person.assets[avatar.file_hash] == GODETTE.read_bytes()
