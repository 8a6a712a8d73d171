"""The GPU worker as production runs it: `manage.py gpu_worker` (a Celery worker process on the
real broker) in front of the fake servers; requests from this process through the real client."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from bench.servers import database_url_from_settings
from inference.gpu.client import live_hosts, request_mode
from inference.gpu.errors import GpuUnavailable

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def wait_until(condition, what: str, deadline_s: float = 90.0):
    """A guard against hanging, not a timing check."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
def start_worker(gpu_env, redis_url, settings, vllm, tmp_path):
    procs: list[tuple[subprocess.Popen, object]] = []

    def start() -> subprocess.Popen:
        env = {
            **os.environ, **gpu_env, "REDIS_URL": redis_url, "DATABASE_URL": database_url_from_settings(),
            "LLM_MODELS": json.dumps(settings.LLM_MODELS), "AVATARFORGE_TESTING": "1",
            "GPU_LOCK_TTL": "3", "GPU_HEARTBEAT_INTERVAL": "0.3", "GPU_QUEUES": "", "GPU_REQUEST_TIMEOUT": "60",
        }
        log = open(tmp_path / f"worker-{len(procs)}.log", "w+")  # noqa: SIM115 - closed at teardown
        proc = subprocess.Popen([sys.executable, "manage.py", "gpu_worker", "--loglevel", "INFO"],
                                cwd=django_settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
        procs.append((proc, log))
        host = gpu_env["GPU_HOST"]
        wait_until(lambda: any(h["host"] == host and f":{proc.pid}:" in h["worker"] for h in live_hosts()),
                   f"worker {proc.pid} to report")
        return proc

    yield start
    for proc, log in procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.seek(0)
        print(log.read()[-3000:])
        log.close()
    # The worker's TTS child lives in its own session: stop it like the worker would.
    from inference.gpu.conf import load_config
    from inference.gpu.processes import ManagedProcess

    for name, svc in load_config(gpu_env).services.items():
        if svc.supervised:
            ManagedProcess(name, svc.command, svc.env, load_config(gpu_env).log_dir).stop(timeout=5)


def test_requests_queue_in_order_and_one_arriving_mid_switch_waits_then_succeeds(start_worker, gpu_env, gpu_store, vllm):
    host = gpu_env["GPU_HOST"]
    start_worker()
    vllm.delays.sleep = 1.0  # the switch to tts takes a while on the server
    results, order, errors = {}, [], []

    def ask(name: str, mode: str) -> None:
        try:
            grant = request_mode(mode, host=host, timeout=60)
            grant.release()  # done with the mode at once
            results[name] = grant
            order.append(name)
        except Exception as exc:  # reported below
            errors.append(exc)

    first = threading.Thread(target=ask, args=("a", "tts"))
    first.start()
    assert vllm.sleep_started.wait(60)  # the switch is under way
    assert gpu_store.get_state(host)["switching"] == "tts"
    second = threading.Thread(target=ask, args=("b", "tts"))
    second.start()
    wait_until(lambda: gpu_store.pending_count(host) >= 2, "b to be queued behind a")
    third = threading.Thread(target=ask, args=("c", "chat"))
    third.start()
    for thread in (first, second, third):
        thread.join(120)

    assert errors == []
    assert order == ["a", "b", "c"]  # first come, first served
    assert (results["a"].previous_mode, results["a"].current_mode) == ("chat", "tts")
    assert (results["b"].previous_mode, results["b"].current_mode) == ("tts", "tts")  # waited, no second switch
    assert (results["c"].previous_mode, results["c"].current_mode) == ("tts", "chat")
    assert not vllm.is_sleeping
    # Now idle in chat: a chat request is granted on the spot, without the queue.
    grant = request_mode("chat", host=host, timeout=5)
    assert grant.leased and grant.switch_time_ms == 0.0
    grant.release()


def test_a_worker_killed_mid_switch_is_recovered_from_the_servers(start_worker, gpu_env, gpu_store, vllm):
    host = gpu_env["GPU_HOST"]
    first = start_worker()
    vllm.delays.sleep = 1.5
    errors: list[Exception] = []

    def ask() -> None:
        try:
            request_mode("tts", host=host, timeout=4)
        except GpuUnavailable as exc:
            errors.append(exc)

    caller = threading.Thread(target=ask)
    caller.start()
    assert vllm.sleep_started.wait(60)
    first.send_signal(signal.SIGKILL)
    first.wait()
    wait_until(lambda: vllm.is_sleeping, "vLLM to finish sleeping on its own")
    # What the dead worker left in Redis says chat (switching to tts); the servers say otherwise.
    assert gpu_store.get_state(host) == {"mode": "chat", "switching": "tts"}
    caller.join(30)
    assert len(errors) == 1 and errors[0].status == 503 and errors[0].code == "service_unavailable"

    seen = len(vllm.calls)
    start_worker()

    later = [f"{c.method} {c.path}" for c in vllm.calls[seen:]]
    assert "GET /is_sleeping" in later  # asked the server
    assert later.index("POST /wake_up?tags=weights") < later.index("POST /wake_up?tags=kv_cache")
    assert not vllm.is_sleeping
    assert gpu_store.get_state(host) == {"mode": "chat", "switching": ""}
    grant = request_mode("tts", host=host, timeout=60)
    assert (grant.previous_mode, grant.current_mode) == ("chat", "tts")
    grant.release()


def test_system_api_switches_reports_vram_health_and_admin(start_worker, gpu_env, make_user, vllm, ledger):
    host = gpu_env["GPU_HOST"]
    start_worker()
    staff = make_user("admin@example.com", is_staff=True)
    client = APIClient()
    client.force_authenticate(staff)

    response = client.post("/api/system/mode", {"mode": "tts", "host": host}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["host"], body["previous_mode"], body["current_mode"]) == (host, "chat", "tts")
    assert body["switch_time_ms"] > 0

    def vram_row():
        rows = [h for h in client.get("/api/system/vram").json()["hosts"] if h["host"] == host]
        return rows[0] if rows and rows[0]["mode"] == "tts" else None

    row = wait_until(vram_row, "the heartbeat after the switch")
    assert row["total_mb"] == 24576 and row["used_mb"] == ledger.used_mb() and row["alive"] is True
    assert row["active_services"] == ["tts"] and row["usage_percent"] == round(100 * row["used_mb"] / 24576, 1)

    health = client.get("/api/health").json()["gpu"][host]
    assert health == {"llm": "sleeping", "tts": "healthy", "stt": "unknown", "gen3d": "unknown", "style": "unknown"}

    client.force_login(staff)
    page = client.get("/admin/gpu/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f'data-host="{host}"' in text and '<td class="gpu-mode">tts</td>' in text

    # Back to chat, then a refusal for lack of memory: 507 in the error family, chat kept.
    assert client.post("/api/system/mode", {"mode": "chat", "host": host}, format="json").json()["current_mode"] == "chat"
    vllm.frees_on_sleep = False
    assert ledger.alloc(os.getpid(), "someone-else", 6000)
    try:
        refused = client.post("/api/system/mode", {"mode": "tts", "host": host}, format="json")
    finally:
        ledger.free(os.getpid(), "someone-else")
    assert refused.status_code == 507
    assert refused.json()["code"] == "vram_insufficient" and refused.json()["details"]["mode"] == "tts"
    assert not vllm.is_sleeping


def test_a_chat_turn_wakes_a_sleeping_llm_by_asking_for_the_chat_mode(start_worker, gpu_env, gpu_store, vllm, settings,
                                                                     user):
    """The chat turn engine holds its model's GPU mode: with the host switched to tts (vLLM
    asleep, answering 503), a turn waits for the switch back and then streams its reply."""
    from asgiref.sync import async_to_sync

    from characters.models import Character
    from chat import services as chat_services
    from chat.turns import TurnRequest, run_turn

    settings.LLM_MODELS = [{**settings.LLM_MODELS[0], "gpu_mode": "chat"}]
    host = gpu_env["GPU_HOST"]
    start_worker()
    request_mode("tts", host=host, timeout=60).release()
    assert vllm.is_sleeping
    character = Character.objects.create(owner=user, name="Miro", personality="Bright.", language="en")
    conversation = chat_services.create_conversation(user=user, character_id=character.pk)

    result = async_to_sync(run_turn)(TurnRequest(user=user, conversation_id=conversation.pk, text="Hello there"))

    assert result.status == "complete", result.error
    assert not vllm.is_sleeping
    assert gpu_store.get_state(host)["mode"] == "chat"


def test_a_gpu_voice_holds_the_tts_mode_while_it_speaks(start_worker, gpu_env, gpu_store, vllm, settings):
    """SPEECH_TTS_GPU_MODE: the GPT-SoVITS engine (started by the host only in tts mode) is
    reached after the host switched for it; the chat model sleeps meanwhile."""
    import json as json_module

    from asgiref.sync import async_to_sync

    from inference.speech import config as speech_config

    services = json_module.loads(gpu_env["GPU_SERVICES"])
    settings.SPEECH_TTS_ENGINE = "gpt-sovits"
    settings.SPEECH_TTS_URL = services["tts"]["url"]
    settings.SPEECH_TTS_GPU_MODE = "tts"
    settings.SPEECH_TTS_VOICES = [{"id": "mika", "language": "en", "ref_audio_path": "ref/mika.wav",
                                   "prompt_text": "Hello.", "prompt_lang": "en"}]
    start_worker()
    assert gpu_store.get_state(gpu_env["GPU_HOST"])["mode"] == "chat"
    voice = speech_config.remote_voices()[0]

    speech = async_to_sync(speech_config.tts_engine("gpt-sovits").synthesize)("Hello from the GPU.", voice=voice)

    assert speech.pcm and speech.sample_rate == 32000
    assert gpu_store.get_state(gpu_env["GPU_HOST"])["mode"] == "tts"
    assert vllm.is_sleeping


def test_the_summarizer_wakes_a_sleeping_llm_too(start_worker, gpu_env, gpu_store, vllm, settings, user):
    """One-shot completions (summaries, the wizard) hold the model's mode like streamed turns."""
    from characters.models import Character
    from chat import memory
    from chat import services as chat_services
    from inference import llm

    settings.LLM_MODELS = [{**settings.LLM_MODELS[0], "gpu_mode": "chat"}]
    host = gpu_env["GPU_HOST"]
    start_worker()
    request_mode("tts", host=host, timeout=60).release()
    assert vllm.is_sleeping
    character = Character.objects.create(owner=user, name="Miro", personality="Bright.", language="en")
    conversation = chat_services.create_conversation(user=user, character_id=character.pk)
    budget = memory.budget_for(llm.get_model(None))

    summary = memory._call_summarizer(conversation, "Ann: hello\nMiro: hi there", budget, None)

    assert summary.strip()
    assert not vllm.is_sleeping
    assert gpu_store.get_state(host)["mode"] == "chat"
