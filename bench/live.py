"""Benchmark of AI VTuber live mode.

    python -m bench.live [--replies N] [--messages N]

Prints:
    FIGURE chat_to_voice_ms_p50 <ms> ms   fake Chzzk emits a chat -> the first `say` with its speech clip
    FIGURE chat_to_voice_ms_p95 <ms> ms   stored reaches the overlay group (real LiveWorker, ChatTurnResponder,
                                          embedded Piper TTS). The LLM is the fake OpenAI-compatible server
                                          (tests/support/fake_openai.py) streaming at 200 tokens/s: the figure
                                          is our pipeline plus TTS, not a real model's speed.
    FIGURE intake_ms_p95 <ms> ms          fake Chzzk emit -> our Socket.IO intake -> queued in the ChatSelector
    FIGURE intake_msgs_per_s <n> msg/s    sustained intake rate of a burst, counted only when nothing is lost
    FIGURE vts_param_gap_ms_max <ms> ms   longest gap between parameter injections seen by a fake VTube Studio
                                          (frontend/src/live/vts_bridge.js in node; VTS drops a parameter after 1 s)
    FIGURE overlay_update_ms_p95 <ms> ms  worker publishes on the channel layer -> the overlay WebSocket consumer
                                          delivers it (channels-redis, real OverlayConsumer)
Runs against a throw-away SQLite database and Redis (bench.servers.bench_environment).
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def figure(name: str, value: float, unit: str) -> None:
    print(f"FIGURE {name} {value:.1f} {unit}", flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def _until(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark step timed out")
        await asyncio.sleep(0.002)


async def chat_to_voice(replies: int, fake_llm) -> list[float]:
    from channels.db import database_sync_to_async
    from channels.layers import get_channel_layer
    from django.conf import settings
    from django.utils import timezone

    from accounts.models import Plan, User
    from accounts.plans import ensure_plans
    from characters.models import Character
    from live import events, worker
    from live.models import ChzzkAccount, LiveSession, SessionStatus
    from live.sealed import seal
    from live.wiring import intake_for, responder_for
    from tests.support.fake_chzzk import FakeChzzk

    async with FakeChzzk() as chzzk:
        settings.CHZZK_API_BASE = chzzk.base_url
        settings.CHZZK_CLIENT_ID, settings.CHZZK_CLIENT_SECRET = chzzk.client_id, chzzk.client_secret

        def setup() -> str:
            ensure_plans(Plan)
            user = User.objects.create_user(email="bench-live@example.com", password="x-bench-pass-1",
                                            plan=Plan.objects.get(code="free"))
            ChzzkAccount.objects.create(user=user, channel_id=chzzk.channel_id, access_token=seal(chzzk.access_token),
                                        refresh_token=seal("r"), expires_at=timezone.now() + dt.timedelta(days=1))
            character = Character.objects.create(owner=user, name="Miro", language="en")
            return str(LiveSession.objects.create(owner=user, character=character, title="Bench", platform="chzzk",
                                                  status=SessionStatus.RUNNING, settings={"reply_pace_s": 0}).pk)

        session_id = await database_sync_to_async(setup)()
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(events.overlay_group(session_id), channel)
        says: list[tuple[float, dict]] = []
        replies_seen: list[float] = []

        async def pump() -> None:
            while True:
                message = await layer.receive(channel)
                payload = message["payload"]
                if payload.get("type") == "say" and payload.get("clip"):
                    says.append((time.perf_counter(), payload))
                elif payload.get("type") == "reply":
                    replies_seen.append(time.perf_counter())

        pumper = asyncio.create_task(pump())
        live_worker = worker.LiveWorker(responder_for=responder_for, intake_for=intake_for)
        running = asyncio.create_task(live_worker.run())
        await asyncio.wait_for(chzzk.subscribed.wait(), 60)
        samples: list[float] = []
        for i in range(replies + 1):  # the first warms Piper up and is not counted
            fake_llm.reply("[happy] Thanks for saying that, it made my day! Let's keep going.", token_rate=200)
            before = len(says)
            done = len(replies_seen)
            sent = time.perf_counter()
            await chzzk.send_chat(f"viewer{i}", f"Viewer {i}", f"hello number {i}, how is the stream going?")
            await _until(lambda b=before: len(says) > b, 120)
            if i:
                samples.append((says[before][0] - sent) * 1000)
            await _until(lambda d=done: len(replies_seen) > d, 120)
        live_worker.stopping.set()
        await asyncio.wait_for(running, 30)
        pumper.cancel()
        return samples


async def intake(messages: int) -> tuple[list[float], float, int]:
    from live.intake.chzzk import ChzzkApi, ChzzkCredentials, ChzzkIntake
    from live.selection import ChatSelector, SelectionSettings
    from live.settings_schema import effective_settings
    from tests.support.fake_chzzk import FakeChzzk

    selector = ChatSelector(SelectionSettings.from_dict(effective_settings(
        {"queue_size": 500, "viewer_max_per_minute": 60, "repeat_window": 0})))
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    received = 0

    async def on_event(event) -> None:
        nonlocal received
        verdict = selector.offer(event)
        received += 1
        started = sent_at.get(event.text)
        if started is not None and verdict.accepted:
            latencies.append((time.perf_counter() - started) * 1000)
        selector.take_batch()  # keep the bounded queue from dropping

    async def on_state(state: str, detail: str) -> None: ...

    async with FakeChzzk() as chzzk:
        api = ChzzkApi(chzzk.base_url, ChzzkCredentials(client_id=chzzk.client_id, client_secret=chzzk.client_secret,
                                                        access_token=chzzk.access_token))
        client = ChzzkIntake(api)
        task = asyncio.create_task(client.run(on_event, on_state))
        await asyncio.wait_for(chzzk.subscribed.wait(), 30)
        for i in range(50):  # paced: per-message latency
            text = f"latency probe {i}"
            sent_at[text] = time.perf_counter()
            await chzzk.send_chat(f"v{i % 40}", f"Viewer {i % 40}", text)
            await asyncio.sleep(0.02)
        await _until(lambda: received >= 50, 30)
        base = received
        started = time.perf_counter()
        for i in range(messages):  # a burst: sustained rate
            await chzzk.send_chat(f"b{i % 200}", f"Burst {i % 200}", f"burst message {i}")
        try:
            await _until(lambda: received - base >= messages, 120)
        except TimeoutError:
            pass
        elapsed = time.perf_counter() - started
        got = received - base
        await client.stop()
        task.cancel()
        return latencies, (got / elapsed if got == messages else 0.0), messages - got


async def vts_gap(seconds: float) -> float:
    from tests.support.fake_vts import FakeVts

    if shutil.which("node") is None:
        raise RuntimeError("node is needed for the VTS bridge figure")
    fake = await FakeVts().start()
    try:
        proc = await asyncio.create_subprocess_exec(
            "node", "--experimental-websocket", "--no-warnings",
            str(ROOT / "frontend" / "tests" / "tools" / "run_vts_bridge.mjs"), fake.url, str(seconds),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        end = time.monotonic() + seconds - 0.3
        while time.monotonic() < end:
            fake.check_gaps()
            await asyncio.sleep(0.05)
        await asyncio.wait_for(proc.communicate(), 30)
        if fake.lost:
            raise RuntimeError(f"VTS dropped parameters: {sorted(fake.lost)}")
        return max(fake.max_gap_s.values()) * 1000
    finally:
        await fake.close()


async def overlay_updates(n: int) -> list[float]:
    from channels.db import database_sync_to_async
    from channels.testing import WebsocketCommunicator

    from accounts.models import User
    from avatarforge.asgi import application
    from characters.models import Character
    from live import events
    from live.models import LiveSession

    def setup() -> LiveSession:
        user = User.objects.get(email="bench-live@example.com")
        return LiveSession.objects.create(owner=user, character=Character.objects.filter(owner=user).first(), title="Overlay")

    session = await database_sync_to_async(setup)()
    socket = WebsocketCommunicator(application, f"/ws/live/overlay/{session.overlay_key}/",
                                   headers=[(b"origin", b"http://localhost")])
    connected, _ = await socket.connect(timeout=10)
    if not connected:
        raise RuntimeError("overlay socket refused")
    await socket.receive_json_from(timeout=10)  # the state frame
    samples = []
    for i in range(n):
        started = time.perf_counter()
        await events.apublish(events.overlay_group(session.pk), {"type": "chat", "event": {"nickname": "b", "text": str(i)}})
        while True:
            frame = await socket.receive_json_from(timeout=10)
            if frame.get("type") == "chat" and frame["event"]["text"] == str(i):
                break
        samples.append((time.perf_counter() - started) * 1000)
    await socket.disconnect()
    return samples


async def main_async(args) -> None:
    from tests.support.fake_openai import FakeOpenAI

    fake = FakeOpenAI(models=("bench-model",)).start()
    from django.conf import settings

    settings.LLM_MODELS = [fake.model_config("bench", label="Bench")]
    settings.LLM_BASE_URL = ""
    try:
        samples = await chat_to_voice(args.replies, fake)
        figure("chat_to_voice_ms_p50", percentile(samples, 0.5), "ms")
        figure("chat_to_voice_ms_p95", percentile(samples, 0.95), "ms")
    finally:
        fake.stop()
    latencies, rate, lost = await intake(args.messages)
    figure("intake_ms_p95", percentile(latencies, 0.95), "ms")
    if lost:
        print(f"# intake lost {lost} of {args.messages} burst messages; no rate reported", flush=True)
    figure("intake_msgs_per_s", rate, "msg/s")
    figure("vts_param_gap_ms_max", await vts_gap(4.0), "ms")
    figure("overlay_update_ms_p95", percentile(await overlay_updates(200), 0.95), "ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=10)
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    os.environ.setdefault("AVATARFORGE_TESTING", "1")
    from bench.servers import bench_environment

    with bench_environment(prefix="live"):
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
