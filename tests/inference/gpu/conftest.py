"""A GPU host made of protocol-real fakes: a memory ledger (the fake NVML), a fake vLLM with the
sleep routes (in this process), and a fake GPT-SoVITS that the host starts as a real process."""
from __future__ import annotations

import json
import socket
import sys
import uuid

import pytest

from inference.gpu.conf import load_config
from inference.gpu.host import GpuHost
from inference.gpu.state import GpuStore
from tests.support.fake_gpu import FakeVllm, Ledger, LedgerReader

LLM_MODEL = "gpu-llm"
WEIGHTS_MB, KV_MB, TTS_MB = 14000, 4000, 3500


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tts_command(port: int, ledger_url: str, *, start_delay: float = 0.0, weights_delay: float = 0.0) -> list[str]:
    return [sys.executable, "-m", "tests.support.fake_gpu", "tts", "--port", str(port), "--ledger", ledger_url,
            "--mb", str(TTS_MB), "--start-delay", str(start_delay), "--weights-delay", str(weights_delay)]


@pytest.fixture
def redis_url(settings):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (REDIS_URL), as in CI")
    return settings.REDIS_URL


@pytest.fixture
def gpu_store(redis_url) -> GpuStore:
    return GpuStore(redis_url)


@pytest.fixture
def ledger(monkeypatch):
    server = Ledger(total_mb=24576).start()
    monkeypatch.setenv("GPU_FAKE_LEDGER_URL", server.url)
    yield server
    server.stop()


@pytest.fixture
def vllm(ledger, settings, monkeypatch):
    from inference.llm import retry

    monkeypatch.setattr(retry, "RETRY_BASE_DELAY", 0.005)
    server = FakeVllm(ledger_url=ledger.url, weights_mb=WEIGHTS_MB, kv_mb=KV_MB, models=("fake-llm",)).start()
    settings.LLM_MODELS = [server.model_config(LLM_MODEL)]
    settings.LLM_BASE_URL = ""
    yield server
    server.stop()


@pytest.fixture
def gpu_env(ledger, vllm, tmp_path):
    """Environment of a GPU host: fake vLLM (external, sleep mode) + fake GPT-SoVITS (supervised)."""
    port = free_port()
    services = {
        "llm": {"kind": "vllm", "url": vllm.url, "vram_mb": WEIGHTS_MB + KV_MB, "llm_model": LLM_MODEL},
        "tts": {"kind": "gpt_sovits", "url": f"http://127.0.0.1:{port}", "vram_mb": TTS_MB,
                "command": tts_command(port, ledger.url), "start_timeout": 60,
                "gpt_weights": "GPT_weights/voice-e15.ckpt", "sovits_weights": "SoVITS_weights/voice_e8.pth"},
    }
    return {
        "GPU_HOST": f"test-{uuid.uuid4().hex[:8]}",
        "GPU_SERVICES": json.dumps(services),
        "GPU_SWITCHING": "on",
        "GPU_VRAM_READER": "tests.support.fake_gpu.LedgerReader",
        "GPU_FAKE_LEDGER_URL": ledger.url,
        "GPU_LOG_DIR": str(tmp_path / "gpu-logs"),
        "GPU_DRAIN_TIMEOUT": "5",
        "GPU_STEP_TIMEOUT": "30",
    }


@pytest.fixture
def make_host(gpu_env, gpu_store):
    hosts: list[GpuHost] = []

    def make(**overrides: str) -> GpuHost:
        from inference.gpu import llm_adapter

        cfg = load_config({**gpu_env, **overrides})
        host = GpuHost(cfg, store=gpu_store, reader=LedgerReader(),
                       warm_up=llm_adapter.warm_up, replies_in_flight=llm_adapter.replies_in_flight)
        hosts.append(host)
        return host

    yield make
    for host in hosts:
        for server in host.servers.values():
            if server.process is not None:
                server.process.stop(timeout=5)
        host.close()
