"""The live worker end to end: real LiveWorker, the Redis channel layer and leases, the chat turn
engine against the fake OpenAI server, the embedded TTS (Piper), and a fake Chzzk reached through
our real Socket.IO intake. What the overlay would receive is read from its channel-layer group."""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import wave

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.test import AsyncClient
from django.utils import timezone

from chat.models import Message
from live import events, leases, services, worker
from live.models import ChzzkAccount, LiveSession, SessionStatus
from live.sealed import seal
from live.wiring import intake_for, responder_for
from tests.support.fake_chzzk import FakeChzzk

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fast_worker(monkeypatch):
    monkeypatch.setattr(worker, "POLL_S", 0.1)
    monkeypatch.setattr(worker, "RENEW_S", 0.2)
    monkeypatch.setattr(leases, "LEASE_TTL_MS", 1500)


@pytest.fixture
def character(user):
    from characters.models import Character

    return Character.objects.create(owner=user, name="Miro", personality="Bright and quick.", language="en")


class Listener:
    """Subscribes to a session's overlay and dashboard groups like the sockets do."""

    def __init__(self, session_id) -> None:
        self.session_id = session_id
        self.overlay: list[dict] = []
        self.dashboard: list[dict] = []
        self._tasks: list[asyncio.Task] = []

    async def __aenter__(self) -> Listener:
        layer = get_channel_layer()
        for group, sink in ((events.overlay_group(self.session_id), self.overlay),
                            (events.dashboard_group(self.session_id), self.dashboard)):
            channel = await layer.new_channel()
            await layer.group_add(group, channel)
            self._tasks.append(asyncio.create_task(self._pump(layer, channel, sink)))
        return self

    async def _pump(self, layer, channel, sink) -> None:
        while True:
            message = await layer.receive(channel)
            sink.append(message["payload"])

    async def __aexit__(self, *exc) -> None:
        for task in self._tasks:
            task.cancel()
        # A channels-redis receive() cancelled while another coroutine of the same layer receives
        # can stay "cancelling": its Redis read does not wake. Left so, the test loop's teardown
        # waited on it for the whole 300 s timeout (once in CI). Closing this loop's Redis
        # connections ends the read, so the task finishes.
        _, stuck = await asyncio.wait(self._tasks, timeout=5)
        if stuck:
            await get_channel_layer().close_pools()
            await asyncio.wait(stuck, timeout=5)

    def of(self, kind: str) -> list[dict]:
        return [p for p in self.overlay if p.get("type") == kind]


async def until(predicate, timeout: float = 60.0) -> None:
    async def poll():
        while not predicate():
            await asyncio.sleep(0.02)
    await asyncio.wait_for(poll(), timeout)


async def _start(user, character, **fields) -> LiveSession:
    session = await database_sync_to_async(LiveSession.objects.create)(
        owner=user, character=character, title="Stream", status=SessionStatus.RUNNING, **fields)
    return session


@contextlib.asynccontextmanager
async def running_worker(**kwargs):
    live_worker = worker.LiveWorker(responder_for=responder_for, intake_for=intake_for, **kwargs)
    task = asyncio.create_task(live_worker.run())
    try:
        yield live_worker
    finally:
        live_worker.stopping.set()
        await asyncio.wait_for(task, 30)


async def test_test_chat_is_answered_with_a_spoken_clip_and_visemes(user, character, fake_llm):
    fake_llm.reply("[happy] Hello Jin, welcome to the stream! Glad you came.", token_rate=200)
    session = await _start(user, character, settings={"reply_pace_s": 0})
    async with Listener(session.pk) as seen, running_worker() as live_worker:
        await until(lambda: str(session.pk) in live_worker.runners, 10)
        await until(lambda: any(p.get("stage") == "worker" for p in seen.dashboard), 10)
        await database_sync_to_async(services.post_test_chat)(user=user, session_id=session.pk, nickname="Jin",
                                                              text="hello there, how are you?")
        await until(lambda: any(p.get("stage") == "reply" for p in seen.dashboard))
    says = seen.of("say")
    assert [s["text"] for s in says] == ["Hello Jin,", "welcome to the stream!", "Glad you came."]
    assert {s["emotion"] for s in says} == {"happy"}
    first = says[0]
    assert first["duration"] > 0.5 and first["visemes"] and {"t", "v", "w"} <= set(first["visemes"][0])
    assert any(v["v"] != "silence" and v["w"] > 0 for v in first["visemes"])
    # The clip is a real WAV, fetched with the overlay key like OBS does.
    response = await AsyncClient().get(f"/live/overlay/{session.overlay_key}/clips/{first['clip']}.wav")
    assert response.status_code == 200 and response["Content-Type"] == "audio/wav"
    with wave.open(io.BytesIO(response.content)) as wav:
        assert wav.getnchannels() == 1 and wav.getnframes() / wav.getframerate() == pytest.approx(first["duration"], abs=0.01)
    assert (await AsyncClient().get(f"/live/overlay/{'x' * 32}/clips/{first['clip']}.wav")).status_code == 404
    # The turn went into the session's own conversation; the live context reached the prompt
    # as system text without being stored as the user's message.
    session = await database_sync_to_async(LiveSession.objects.get)(pk=session.pk)
    assert session.conversation_id is not None
    user_text = await database_sync_to_async(
        lambda: list(Message.objects.filter(conversation_id=session.conversation_id, role="user").values_list("text", flat=True)))()
    assert len(user_text) == 1 and "hello there, how are you?" in user_text[0] and "Recent chat" not in user_text[0]
    sent = fake_llm.completions[-1].body["messages"]
    assert sent[0]["role"] == "system" and "Recent chat:\n- Jin: hello there, how are you?" in sent[0]["content"]
    assert all("Recent chat" not in m["content"] for m in sent[1:])
    stages = [p.get("stage") for p in seen.dashboard]
    assert stages.index("incoming") < stages.index("chosen") < stages.index("reply")


async def test_say_this_speaks_verbatim_without_the_model(user, character, fake_llm):
    session = await _start(user, character)
    async with Listener(session.pk) as seen, running_worker() as live_worker:
        await until(lambda: str(session.pk) in live_worker.runners, 10)
        await until(lambda: any(p.get("stage") == "worker" for p in seen.dashboard), 10)
        await database_sync_to_async(services.say_line)(user=user, session_id=session.pk, text="Thanks for the raid!")
        await until(lambda: seen.of("reply"))
    assert [s["text"] for s in seen.of("say")] == ["Thanks for the raid!"]
    assert seen.of("say")[0]["clip"] and fake_llm.completions == []


async def test_emergency_stop_silences_and_cancels_the_model_stream(user, character, fake_llm):
    # A long reply that never repeats itself (a repeating one is cut by the loop detector first,
    # on a slow machine before the stop arrives).
    fake_llm.reply("[neutral] First part, " + " ".join(f"word{n}" for n in range(400)), token_rate=10)
    session = await _start(user, character, settings={"reply_pace_s": 0})
    async with Listener(session.pk) as seen, running_worker() as live_worker:
        await until(lambda: str(session.pk) in live_worker.runners, 10)
        await until(lambda: any(p.get("stage") == "worker" for p in seen.dashboard), 10)
        await database_sync_to_async(services.post_test_chat)(user=user, session_id=session.pk, nickname="Jin",
                                                              text="tell me a long story")
        await until(lambda: seen.of("say"))
        await database_sync_to_async(services.emergency_stop)(user=user, session_id=session.pk)
        await until(lambda: any(p.get("stage") == "emergency_stop" for p in seen.dashboard), 10)
        await until(lambda: fake_llm.completions[-1].disconnected, 10)  # upstream generation aborted
        said = len(seen.of("say"))
        await asyncio.sleep(1.0)
        assert len(seen.of("say")) == said  # nothing more is spoken
        # The cut reply is stored by the turn after its stream closes: wait for it (a ceiling, not a
        # timing assertion) while the worker still runs; exactly one reply must be kept.
        cancelled = Message.objects.filter(role="assistant", status="cancelled")
        counts: list[int] = []

        async def stored() -> bool:
            counts.append(await database_sync_to_async(cancelled.count)())
            return counts[-1] > 0

        for _ in range(600):
            if await stored():
                break
            await asyncio.sleep(0.05)
    assert seen.of("silence")
    assert fake_llm.completions[-1].tokens_sent < 200
    assert await database_sync_to_async(cancelled.count)() == 1


async def test_chzzk_donation_first_flood_filtered(user, character, fake_llm, settings):
    answered: list[str] = []

    def respond(body):
        from tests.support.fake_openai import Reply

        answered.append(body["messages"][-1]["content"])
        return Reply("[happy] Thanks!", token_rate=500)

    fake_llm.responder = respond
    async with FakeChzzk() as chzzk:
        settings.CHZZK_API_BASE = chzzk.base_url
        settings.CHZZK_CLIENT_ID, settings.CHZZK_CLIENT_SECRET = chzzk.client_id, chzzk.client_secret
        await database_sync_to_async(ChzzkAccount.objects.create)(
            user=user, channel_id=chzzk.channel_id, access_token=seal(chzzk.access_token), refresh_token=seal("r"),
            expires_at=timezone.now() + dt.timedelta(days=1))
        # A slow pace: the chat and the donation both wait in the queue for the next turn.
        session = await _start(user, character, platform="chzzk", settings={"reply_pace_s": 3, "batch_size": 1})
        async with Listener(session.pk) as seen, running_worker():
            await asyncio.wait_for(chzzk.subscribed.wait(), 20)
            await chzzk.send_chat("v1", "Ann", "first hello to the stream")
            await until(lambda: seen.of("reply"))  # the first chat is answered at once
            for _ in range(5):  # one viewer flooding: rate-limited and repeats dropped
                await chzzk.send_chat("v2", "Flood", "spam spam spam")
            await chzzk.send_chat("v3", "Bo", "what game is this?")
            await chzzk.send_donation("v4", "Rich", 1000, "love the stream")
            await until(lambda: len(seen.of("reply")) >= 2, 30)
            incoming = [p for p in seen.dashboard if p.get("stage") == "incoming"]
            await until(lambda: len(seen.of("reply")) >= 3, 30)
        assert "love the stream" in answered[1]  # the donation jumps the queue
        flood = [p for p in incoming if p["event"]["nickname"] == "Flood"]
        assert len(flood) == 5 and [p["accepted"] for p in flood].count(True) == 1
        assert {p["reason"] for p in flood if not p["accepted"]} - {""}
        assert len(seen.of("chat")) == 8  # every message is still shown on the overlay


async def test_a_second_worker_takes_the_session_only_after_the_first_dies(user, character, fake_llm):
    session = await _start(user, character)
    first = worker.LiveWorker(responder_for=responder_for, intake_for=intake_for)
    second = worker.LiveWorker(responder_for=responder_for, intake_for=intake_for)
    await first.tick()
    assert str(session.pk) in first.runners
    await second.tick()
    assert str(session.pk) not in second.runners  # leased by the first
    # The first worker dies without releasing (no renewals): the lease expires.
    runner, task = first.runners.pop(str(session.pk))
    runner.stop()
    await asyncio.wait_for(task, 10)
    await second.tick()
    assert str(session.pk) not in second.runners  # not yet: the lease is still valid
    await asyncio.sleep(leases.LEASE_TTL_MS / 1000 + 0.3)
    await second.tick()
    assert str(session.pk) in second.runners
    held = await database_sync_to_async(LiveSession.objects.get)(pk=session.pk)
    assert held.status_detail == f"held by {second.owner}"
    for w in (first, second):
        for sid in list(w.runners):
            await w._drop(sid)
        await w.redis.aclose()


async def test_an_unlinked_chzzk_session_fails_with_a_reason(user, character, fake_llm):
    session = await _start(user, character, platform="chzzk")
    live_worker = worker.LiveWorker(responder_for=responder_for, intake_for=intake_for)
    await live_worker.tick()
    await live_worker.redis.aclose()
    failed = await database_sync_to_async(LiveSession.objects.get)(pk=session.pk)
    assert failed.status == SessionStatus.FAILED and failed.status_detail.startswith("chzzk_not_linked")
    assert live_worker.runners == {}
