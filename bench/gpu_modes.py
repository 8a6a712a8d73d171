"""Benchmark of GPU mode switches against the protocol-real fakes (tests/support/fake_gpu.py).

    python -m bench.gpu_modes [--rounds N] [--queued K]

The fakes take fixed, realistic-shaped delays (scaled down so a run takes a minute): vLLM sleep
400 ms, wake weights 300 ms, wake KV cache 100 ms, 30 ms per completion (the warm-up token);
GPT-SoVITS loads for 500 ms before its port opens, 50 ms per weight swap. Prints:

    FIGURE switch_ms_p50_chat_to_tts <ms> ms    total switch time, chat -> tts
    FIGURE switch_ms_p50_tts_to_chat <ms> ms    total switch time, tts -> chat
    FIGURE queued_request_wait_ms_p95 <ms> ms   K requests arriving mid-switch, through the real
                                                worker (manage.py gpu_worker) and its queue:
                                                request to grant
    FIGURE overhead_ms <ms> ms                  p50 of our own time in a switch: the total minus
                                                the time spent waiting on servers (goal < 50)

Server time is measured by the switch itself around every server call and process start (the
fake TTS's process start includes starting a Python interpreter, which is server time); the
fixed delays are printed too, so the split can be checked by hand. On a GPU host, point
GPU_SERVICES at the real servers and run `scripts/gpu_smoke.sh` instead.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from bench.stats import log, percentile

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SLEEP_S, WAKE_WEIGHTS_S, WAKE_KV_S, TOKEN_S = 0.4, 0.3, 0.1, 0.03
TTS_START_S, TTS_WEIGHTS_S = 0.5, 0.05


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gpu_env(ledger_url: str, vllm_url: str, log_dir: Path) -> dict[str, str]:
    port = free_port()
    tts_cmd = [sys.executable, "-m", "tests.support.fake_gpu", "tts", "--port", str(port), "--ledger", ledger_url,
               "--mb", "3500", "--start-delay", str(TTS_START_S), "--weights-delay", str(TTS_WEIGHTS_S)]
    services = {
        "llm": {"kind": "vllm", "url": vllm_url, "vram_mb": 18000, "llm_model": "bench-llm"},
        "tts": {"kind": "gpt_sovits", "url": f"http://127.0.0.1:{port}", "vram_mb": 3500, "command": tts_cmd,
                "gpt_weights": "GPT_weights/v.ckpt", "sovits_weights": "SoVITS_weights/v.pth"},
    }
    return {
        "GPU_HOST": f"bench-{uuid.uuid4().hex[:6]}", "GPU_SERVICES": json.dumps(services), "GPU_SWITCHING": "on",
        "GPU_VRAM_READER": "tests.support.fake_gpu.LedgerReader", "GPU_FAKE_LEDGER_URL": ledger_url,
        "GPU_LOG_DIR": str(log_dir), "GPU_QUEUES": "", "GPU_HEARTBEAT_INTERVAL": "0.5", "GPU_LOCK_TTL": "5",
    }


def measure_switches(env: dict[str, str], rounds: int) -> dict[str, list]:
    from inference.gpu import llm_adapter
    from inference.gpu.conf import load_config
    from inference.gpu.host import GpuHost
    from inference.gpu.state import store
    from tests.support.fake_gpu import LedgerReader

    host = GpuHost(load_config(env), store=store(), reader=LedgerReader(),
                   warm_up=llm_adapter.warm_up, replies_in_flight=llm_adapter.replies_in_flight)
    out: dict[str, list] = {"chat_to_tts": [], "tts_to_chat": [], "overhead": []}
    try:
        host.recover()
        host.ensure("tts")  # first start of the TTS process: not counted
        host.ensure("chat")
        for i in range(rounds):
            for target, key in (("tts", "chat_to_tts"), ("chat", "tts_to_chat")):
                result = host.ensure(target)
                out[key].append(result.switch_time_ms)
                out["overhead"].append(result.overhead_ms)
            log(f"round {i + 1}: chat->tts {out['chat_to_tts'][-1]:.0f} ms, tts->chat {out['tts_to_chat'][-1]:.0f} ms, "
                f"ours {out['overhead'][-2]:.1f} / {out['overhead'][-1]:.1f} ms")
    finally:
        host.servers["tts"].process.stop(timeout=5)
        host.close()
    return out


def measure_queue(env: dict[str, str], rounds: int, queued: int, vllm) -> list[float]:
    from inference.gpu.client import live_hosts, request_mode

    worker_env = {**os.environ, **env, "LLM_MODELS": os.environ["LLM_MODELS"]}
    proc = subprocess.Popen([sys.executable, "manage.py", "gpu_worker", "--loglevel", "WARNING"], cwd=ROOT,
                            env=worker_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    waits: list[float] = []
    try:
        end = time.monotonic() + 120
        while not any(h["host"] == env["GPU_HOST"] for h in live_hosts()):
            if time.monotonic() > end or proc.poll() is not None:
                raise RuntimeError("the GPU worker did not start")
            time.sleep(0.1)
        modes = ["tts", "chat"]
        for i in range(rounds):
            target = modes[i % 2]
            vllm.sleep_started.clear()
            switcher = threading.Thread(target=lambda t=target: request_mode(t, host=env["GPU_HOST"], lease=False, timeout=120))
            switcher.start()
            time.sleep(0.05)  # the switch is under way (the worker has the request)

            def ask(mode: str) -> None:
                started = time.perf_counter()
                grant = request_mode(mode, host=env["GPU_HOST"], timeout=120)
                waits.append((time.perf_counter() - started) * 1000)
                grant.release()

            askers = [threading.Thread(target=ask, args=(target,)) for _ in range(queued)]
            for t in askers:
                t.start()
            for t in [switcher, *askers]:
                t.join()
            log(f"queue round {i + 1} ({target}): p95 so far {percentile(waits, 0.95):.0f} ms")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        from inference.gpu.conf import load_config
        from inference.gpu.processes import ManagedProcess

        cfg = load_config(env)
        ManagedProcess("tts", cfg.services["tts"].command, {}, cfg.log_dir).stop(timeout=5)
    return waits


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--queued", type=int, default=6)
    args = parser.parse_args()
    from bench.servers import bench_environment

    with bench_environment(prefix="gpu"):
        from tests.support.fake_gpu import FakeVllm, Ledger, VllmDelays

        ledger = Ledger(total_mb=24576).start()
        os.environ["GPU_FAKE_LEDGER_URL"] = ledger.url
        vllm = FakeVllm(ledger_url=ledger.url, weights_mb=14000, kv_mb=4000, models=("bench-model",),
                        delays=VllmDelays(sleep=SLEEP_S, wake_weights=WAKE_WEIGHTS_S, wake_kv_cache=WAKE_KV_S, first_token=TOKEN_S)).start()
        model = vllm.model_config("bench-llm")
        os.environ["LLM_MODELS"] = json.dumps([model])
        from django.conf import settings

        settings.LLM_MODELS = [model]
        log_dir = Path(os.environ["AVATARFORGE_VAR_DIR"]) / "gpu"
        try:
            switches = measure_switches(gpu_env(ledger.url, vllm.url, log_dir), args.rounds)
            waits = measure_queue(gpu_env(ledger.url, vllm.url, log_dir / "queue"), max(2, args.rounds // 2), args.queued, vllm)
        finally:
            vllm.stop()
            ledger.stop()
    log(f"fixed server delays: chat->tts {SLEEP_S * 1000:.0f} ms + TTS load {TTS_START_S * 1000:.0f} ms + "
        f"{2 * TTS_WEIGHTS_S * 1000:.0f} ms weights (+ interpreter start); tts->chat "
        f"{(WAKE_WEIGHTS_S + WAKE_KV_S + TOKEN_S) * 1000:.0f} ms")
    print(f"FIGURE switch_ms_p50_chat_to_tts {percentile(switches['chat_to_tts'], 0.5):.0f} ms")
    print(f"FIGURE switch_ms_p50_tts_to_chat {percentile(switches['tts_to_chat'], 0.5):.0f} ms")
    print(f"FIGURE queued_request_wait_ms_p95 {percentile(waits, 0.95):.0f} ms")
    print(f"FIGURE overhead_ms {percentile(switches['overhead'], 0.5):.1f} ms")
    print(f"FIGURE overhead_ms_p95 {percentile(switches['overhead'], 0.95):.1f} ms")


if __name__ == "__main__":
    main()
