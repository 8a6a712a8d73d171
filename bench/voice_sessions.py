"""Voice session figures, through a real Daphne, a real voice worker process and WebRTC.

    python -m bench.voice_sessions [--turns 20]   (also run by `python -m bench.voice`)

Prints:
    FIGURE voice_to_voice_ms_p50 <ms> ms  last voiced mic frame sent -> first voiced reply frame
    FIGURE voice_to_voice_ms_p95 <ms> ms  received, scripted aiortc client, N sequential turns
    FIGURE barge_in_ms_p95 <ms> ms        first voiced frame of the interruption sent -> the
                                          character's audio stops (last voiced frame received),
                                          the client doing what the chat page does (its own
                                          Silero VAD sends `barge_in`, docs/voice-protocol.md 5)
    FIGURE barge_in_ms_p95_worker <ms> ms  the same with the worker's own rule only (a client
                                          without a VAD: 256 ms of speech, then the interrupt)
    FIGURE voice_sessions_max <n> sessions  concurrent sessions with voice_to_voice p95 < 3000
Embedded engines: Whisper tiny.en, Piper "joe". The LLM is the fake OpenAI server
(tests/support/fake_openai.py) answering a fixed reply at 60 tokens/s, so the figures measure
the voice pipeline, not a model. Piper speaks the user's side (see speak()).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.fake_openai import FakeOpenAI, Reply  # noqa: E402

REPLY = "[happy] Sure, I can hear you very well."
LONG_REPLY = ("[neutral] Once upon a time there was a little boat that sailed across the wide blue sea every "
              "morning, and the fishermen loved it very much because it always brought them home.")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def speak(texts: list[str]) -> list:
    """The user's side, spoken by Piper (once per sentence, replayed every turn). Smart Turn is
    trained on human speech: espeak-ng's flat robot prosody leaves it unsure whether even
    "Can you hear me now?" is finished (0.37), and the session would wait the long pause."""
    import numpy as np

    from inference.speech import config
    from inference.speech.audio import pcm16_to_float, resample
    from inference.speech.piper_tts import PiperTts

    joe = next(v for v in config.voices() if v.id == "en-joe")
    piper = PiperTts(model=config.piper_voice_path())
    try:
        out = []
        for text in texts:
            result = await piper.synthesize(text, voice=joe)
            samples = resample(pcm16_to_float(result.pcm), result.sample_rate, 16000)
            out.append(np.concatenate([samples * 0.8, np.zeros(1600, dtype=np.float32)]))
        return out
    finally:
        piper.close()


def make_sessions(n: int) -> list[tuple[str, str]]:
    from accounts.models import Plan, User
    from accounts.services import create_api_token
    from characters.models import Character
    from chat import services

    plan = Plan.objects.get(code="free")
    out = []
    for i in range(n):
        user = User.objects.create_user(email=f"voice{i}@example.com", password="bench-password-9", plan=plan)
        character = Character.objects.create(owner=user, name=f"Voice {i}", first_message="Hello!")
        conv = services.create_conversation(user=user, character_id=character.pk)
        out.append((str(conv.pk), create_api_token(user=user, name="bench")[1]))
    return out


async def open_client(ws_base: str, conv: tuple[str, str], *, browser_vad: bool = False):
    import websockets

    from chat.voice.client import ScriptedVoiceClient

    ws = await websockets.connect(f"{ws_base}/ws/voice/{conv[0]}/?language=en", origin="http://127.0.0.1",
                                  additional_headers=[("Authorization", f"Bearer {conv[1]}")], max_size=2**20)
    client = ScriptedVoiceClient(lambda m: ws.send(json.dumps(m)), lambda: _recv(ws), browser_vad=browser_vad)
    await client.connect()
    return client, ws


async def _recv(ws) -> dict:
    return json.loads(await ws.recv())


async def one_turn(client, said) -> float:
    start_index = len(client.events)
    client.mic.say(said)
    await client.mic.spoken.wait()
    end_of_speech = client.mic.last_voiced_at
    await client.wait_for(lambda e: e["type"] == "bot_speaking" and e["speaking"] is False, timeout=120, after=start_index)
    first = client.first_voiced_after(end_of_speech)
    return (first - end_of_speech) * 1000


async def turns(ws_base: str, conv, count: int, said) -> list[float]:
    client, ws = await open_client(ws_base, conv)
    try:
        return [await one_turn(client, said) for _ in range(count)]
    finally:
        await client.close()
        await ws.close()


async def barge_ins(ws_base: str, conv, fake: FakeOpenAI, count: int, *, browser_vad: bool) -> list[float]:
    said, interruption = await speak(["Tell me a story.", "Wait, stop please."])
    client, ws = await open_client(ws_base, conv, browser_vad=browser_vad)
    out = []
    try:
        for _ in range(count):
            fake.default = Reply(LONG_REPLY, token_rate=40)
            index = len(client.events)
            client.mic.say(said)
            first = await client.wait_for(lambda e: e["type"] == "visemes", timeout=120, after=index)
            await asyncio.sleep(1.2)
            client.mic.say(interruption)
            await client.wait_for(lambda e: e["type"] == "interrupt", timeout=60, after=index)
            started = client.mic.first_voiced_at
            await asyncio.sleep(1.0)
            stopped = client.last_voiced()
            out.append(max(0.0, (stopped - started) * 1000) if stopped and stopped > first["_at"] else 0.0)
            # The interruption is the next turn: let it be answered before the next round.
            await client.wait_for(lambda e: e["type"] == "bot_speaking" and e["speaking"] is False, timeout=120, after=index + 1)
    finally:
        fake.default = Reply(REPLY)
        await client.close()
        await ws.close()
    return out


async def measure(ws_base: str, convs, fake: FakeOpenAI, count: int) -> dict[str, float]:
    from chat.voice.rtc import allow_loopback_candidates

    allow_loopback_candidates(only=True)
    (said,) = await speak(["Can you hear me now?"])
    v2v = await turns(ws_base, convs[0], count, said)
    barge = await barge_ins(ws_base, convs[1], fake, 10, browser_vad=True)
    barge_worker = await barge_ins(ws_base, convs[1], fake, 5, browser_vad=False)
    best = 1
    for k in (2, 3, 4):
        results = await asyncio.gather(*(turns(ws_base, convs[2 + i], 3, said) for i in range(k)), return_exceptions=True)
        if any(isinstance(r, BaseException) for r in results):
            break
        if percentile([v for r in results for v in r], 0.95) >= 3000:
            break
        best = k
    return {"p50": percentile(v2v, 0.5), "p95": percentile(v2v, 0.95), "barge": percentile(barge, 0.95),
            "barge_worker": percentile(barge_worker, 0.95), "max": best}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=20)
    args = parser.parse_args(argv)
    fake = FakeOpenAI(models=("bench-model",)).start()
    fake.default = Reply(REPLY, token_rate=60)
    os.environ["LLM_MODELS"] = json.dumps([fake.model_config("bench", model="bench-model", max_concurrency=8, timeout=60)])
    os.environ.pop("LLM_BASE_URL", None)
    from bench.servers import bench_environment, server_env, start_daphne, stop

    try:
        with bench_environment(prefix="voice"):
            convs = make_sessions(2 + 4)
            env = server_env({"SPEECH_MODELS_DIR": str(ROOT / "var" / "models")})
            server = start_daphne(env)
            worker = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "voice_worker", "--loopback", "--max-sessions", "4"],
                                      env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                figures = asyncio.run(measure(f"ws://127.0.0.1:{server.port}", convs, fake, args.turns))
            finally:
                worker.terminate()
                worker.wait(20)
                stop(server)
    finally:
        fake.stop()
    print(f"FIGURE voice_to_voice_ms_p50 {figures['p50']:.0f} ms")
    print(f"FIGURE voice_to_voice_ms_p95 {figures['p95']:.0f} ms")
    print(f"FIGURE barge_in_ms_p95 {figures['barge']:.0f} ms")
    print(f"FIGURE barge_in_ms_p95_worker {figures['barge_worker']:.0f} ms")
    print(f"FIGURE voice_sessions_max {figures['max']:.0f} sessions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
