"""Stand-ins for a GPU host's servers, speaking the real servers' wire protocols.

- `Ledger`: the GPU's memory, as an HTTP service every fake allocates from (`POST /alloc`,
  `POST /free`, `GET /`). Allocations of dead processes vanish, as NVML lists only live ones.
  `LedgerReader` is the fake NVML reading (`GPU_VRAM_READER=tests.support.fake_gpu.LedgerReader`,
  `GPU_FAKE_LEDGER_URL=...`).
- `FakeVllm`: the OpenAI server of tests/support/fake_openai.py plus vLLM's sleep-mode routes
  exactly as `vllm serve --enable-sleep-mode` with `VLLM_SERVER_DEV_MODE=1` mounts them:
  `POST /sleep?level=1|2`, `POST /wake_up[?tags=weights|kv_cache]` (empty 200 bodies),
  `GET /is_sleeping` -> `{"is_sleeping": bool}`, `GET /health`. Sleeping frees its weights and KV
  cache in the ledger; waking allocates them again (500, like a CUDA OOM, when the GPU is full).
  Protected routes (`/v1/chat/completions`) answer 503 while it sleeps.
- `FakeTts`: GPT-SoVITS api_v2: `GET|POST /tts`, `GET /set_gpt_weights?weights_path=`,
  `GET /set_sovits_weights?weights_path=`, `GET /control?command=exit`, FastAPI's `GET /docs`.
  Runs as its own process (the GPU worker starts and stops it); allocates its memory at start.

Every server takes fixed, configurable delays so a benchmark can tell server time from ours.
Run one as a process: `python -m tests.support.fake_gpu vllm|tts --port N --ledger URL ...`.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import struct
import sys
import threading
import time
import wave
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from inference.gpu.processes import pid_alive
from inference.gpu.vram import VramReading, VramUnavailable

from .fake_openai import FakeOpenAI, _Handler


def _json(handler: BaseHTTPRequestHandler, status: int, value: Any) -> None:
    data = json.dumps(value).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _empty(handler: BaseHTTPRequestHandler, status: int = 200) -> None:
    handler.send_response(status)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


# --- the GPU's memory --------------------------------------------------------------------------
class Ledger:
    def __init__(self, total_mb: int = 24576) -> None:
        self.total_mb = total_mb
        self.allocations: dict[tuple[int, str], int] = {}
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def _live(self) -> dict[tuple[int, str], int]:
        for key in [k for k in self.allocations if not pid_alive(k[0])]:
            del self.allocations[key]
        return self.allocations

    def used_mb(self) -> int:
        with self.lock:
            return sum(self._live().values())

    def by_process(self) -> dict[int, int]:
        with self.lock:
            out: dict[int, int] = {}
            for (pid, _tag), mb in self._live().items():
                out[pid] = out.get(pid, 0) + mb
            return out

    def alloc(self, pid: int, tag: str, mb: int) -> bool:
        with self.lock:
            live = self._live()
            if sum(live.values()) - live.get((pid, tag), 0) + mb > self.total_mb:
                return False
            live[(pid, tag)] = mb
            return True

    def free(self, pid: int, tag: str) -> None:
        with self.lock:
            self.allocations.pop((pid, tag), None)

    def start(self) -> Ledger:
        ledger = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                _json(self, 200, {"total_mb": ledger.total_mb, "used_mb": ledger.used_mb(),
                                  "processes": {str(k): v for k, v in ledger.by_process().items()}})

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if self.path == "/alloc":
                    ok = ledger.alloc(int(body["pid"]), str(body["tag"]), int(body["mb"]))
                    _json(self, 200 if ok else 507, {"ok": ok})
                elif self.path == "/free":
                    ledger.free(int(body["pid"]), str(body["tag"]))
                    _json(self, 200, {"ok": True})
                else:
                    _json(self, 404, {"detail": "Not Found"})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class LedgerClient:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def alloc(self, tag: str, mb: int) -> bool:
        return httpx.post(f"{self.url}/alloc", json={"pid": os.getpid(), "tag": tag, "mb": mb}, trust_env=False).status_code == 200

    def free(self, tag: str) -> None:
        httpx.post(f"{self.url}/free", json={"pid": os.getpid(), "tag": tag}, trust_env=False)


class LedgerReader:
    """The fake NVML: reads the ledger named by GPU_FAKE_LEDGER_URL (one GPU, index 0)."""

    def __init__(self) -> None:
        self.client = httpx.Client(trust_env=False, timeout=2)  # one pool: a read is one round trip

    def read(self, index: int) -> VramReading:
        url = os.environ.get("GPU_FAKE_LEDGER_URL", "")
        try:
            body = self.client.get(url).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise VramUnavailable(f"fake ledger unreadable: {exc}") from exc
        return VramReading(used_mb=body["used_mb"], total_mb=body["total_mb"],
                           processes={int(k): v for k, v in body["processes"].items()})


# --- vLLM ---------------------------------------------------------------------------------------
@dataclass
class VllmDelays:
    sleep: float = 0.0
    wake_weights: float = 0.0
    wake_kv_cache: float = 0.0
    first_token: float = 0.0  # added to every completion (a warm-up token's latency)


@dataclass
class VllmCall:
    method: str
    path: str
    at: float = field(default_factory=time.monotonic)


class FakeVllm(FakeOpenAI):
    def __init__(self, *, ledger_url: str, weights_mb: int = 14000, kv_mb: int = 4000,
                 delays: VllmDelays | None = None, models: tuple[str, ...] = ("fake-llm",), port: int = 0) -> None:
        super().__init__(models=models)
        self.ledger = LedgerClient(ledger_url)
        self.weights_mb, self.kv_mb = weights_mb, kv_mb
        self.delays = delays or VllmDelays()
        self.sleeping_tags: set[str] = set()
        self.sleep_level = 0
        self.calls: list[VllmCall] = []
        self.state_lock = threading.Lock()
        self.port_wanted = port
        self.sleep_started = threading.Event()
        # False: sleeping keeps the memory (seed 004 10.5: "the LLM was not fully unloaded").
        self.frees_on_sleep = True

    @property
    def is_sleeping(self) -> bool:
        return bool(self.sleeping_tags)

    def load(self) -> None:
        """What vLLM does at start: weights, then the KV cache pool."""
        if not (self.ledger.alloc("weights", self.weights_mb) and self.ledger.alloc("kv_cache", self.kv_mb)):
            raise SystemExit("CUDA out of memory at start")

    def start(self) -> FakeVllm:
        self.load()
        fake = self

        class Handler(_VllmHandler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port_wanted), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        super().stop()
        self.ledger.free("weights")
        self.ledger.free("kv_cache")

    # vLLM's executor semantics (vllm/executor: sleep / wake_up with tags)
    def do_sleep(self, level: int) -> int:
        self.sleep_started.set()
        with self.state_lock:
            if self.sleeping_tags:
                return 200  # already asleep: vLLM logs a warning and answers 200
            time.sleep(self.delays.sleep)
            if self.frees_on_sleep:
                self.ledger.free("kv_cache")
                self.ledger.free("weights")  # level 1: to CPU RAM; level 2: discarded
            self.sleeping_tags = {"weights", "kv_cache"}
            self.sleep_level = level
            return 200

    def do_wake(self, tags: list[str]) -> int:
        with self.state_lock:
            if not self.sleeping_tags:
                return 200
            tags = tags or sorted(self.sleeping_tags)
            if any(t not in self.sleeping_tags for t in tags):
                return 200  # a tag that is awake already: warning, nothing done
            for tag in tags:
                mb, delay = (self.weights_mb, self.delays.wake_weights) if tag == "weights" else (self.kv_mb, self.delays.wake_kv_cache)
                time.sleep(delay)
                if not self.ledger.alloc(tag, mb):
                    return 500  # torch.OutOfMemoryError inside the engine
                self.sleeping_tags.discard(tag)
            return 200


class _VllmHandler(_Handler):
    server_fake: FakeVllm

    def _route(self) -> tuple[str, dict[str, list[str]]]:
        parsed = urlparse(self.path)
        self.server_fake.calls.append(VllmCall(self.command, self.path))
        return parsed.path, parse_qs(parsed.query)

    def do_GET(self) -> None:  # noqa: N802
        path, _query = self._route()
        if path == "/is_sleeping":
            _json(self, 200, {"is_sleeping": self.server_fake.is_sleeping})
        elif path == "/health":
            _empty(self)
        else:
            super().do_GET()

    def do_POST(self) -> None:  # noqa: N802
        path, query = self._route()
        fake = self.server_fake
        if path == "/sleep":
            _empty(self, fake.do_sleep(int(query.get("level", ["1"])[0])))
        elif path == "/wake_up":
            status = fake.do_wake(query.get("tags", []))
            if status == 200:
                _empty(self)
            else:
                _json(self, status, {"error": {"message": "CUDA out of memory", "type": "InternalServerError", "code": 500}})
        elif path.endswith("/chat/completions") and fake.is_sleeping:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            _json(self, 503, {"error": {"message": "The model is sleeping. Wake it up first.", "type": "ServiceUnavailableError",
                                        "param": None, "code": 503}})
        else:
            if path.endswith("/chat/completions") and fake.delays.first_token:
                time.sleep(fake.delays.first_token)
            super().do_POST()


# --- GPT-SoVITS api_v2 --------------------------------------------------------------------------
def _wav(seconds: float = 0.1, rate: int = 32000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(struct.pack("<h", 0) * int(seconds * rate))
    return buf.getvalue()


def serve_tts(port: int, weights_delay: float) -> None:
    weights = {"gpt": "default", "sovits": "default"}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def _params(self) -> tuple[str, dict[str, str]]:
            parsed = urlparse(self.path)
            return parsed.path, {k: v[0] for k, v in parse_qs(parsed.query).items()}

        def _tts(self, params: dict[str, Any]) -> None:
            if not params.get("text"):
                _json(self, 400, {"message": "text is required"})
                return
            data = _wav()
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            path, params = self._params()
            if path == "/docs":
                body = b"<!doctype html><title>GPT-SoVITS - Swagger UI</title>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif path == "/tts":
                self._tts(params)
            elif path in ("/set_gpt_weights", "/set_sovits_weights"):
                if not params.get("weights_path"):
                    _json(self, 400, {"message": "weight path is required"})
                    return
                time.sleep(weights_delay)
                weights["gpt" if path == "/set_gpt_weights" else "sovits"] = params["weights_path"]
                print(f"loaded {path[5:]} {params['weights_path']}", flush=True)
                _json(self, 200, {"message": "success"})
            elif path == "/control" and params.get("command") == "exit":
                _json(self, 200, {"message": "exiting"})
                os._exit(0)
            else:
                _json(self, 404, {"detail": "Not Found"})

        def do_POST(self) -> None:  # noqa: N802
            path, _params = self._params()
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            if path == "/tts":
                self._tts(body)
            else:
                _json(self, 404, {"detail": "Not Found"})

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(f"fake GPT-SoVITS serving on {port} (pid {os.getpid()})", flush=True)
    server.serve_forever(poll_interval=0.02)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="fake_gpu")
    parser.add_argument("kind", choices=("vllm", "tts"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ledger", required=True)
    parser.add_argument("--mb", type=int, default=3500, help="tts: memory at start; vllm: weights")
    parser.add_argument("--kv-mb", type=int, default=4000)
    parser.add_argument("--start-delay", type=float, default=0.0, help="seconds of 'loading' before the port opens")
    parser.add_argument("--weights-delay", type=float, default=0.0)
    parser.add_argument("--model", default="fake-llm")
    args = parser.parse_args(argv)
    time.sleep(args.start_delay)
    if args.kind == "tts":
        if not LedgerClient(args.ledger).alloc("tts", args.mb):
            print("CUDA out of memory at start", flush=True)
            raise SystemExit(1)
        serve_tts(args.port, args.weights_delay)
    else:
        fake = FakeVllm(ledger_url=args.ledger, weights_mb=args.mb, kv_mb=args.kv_mb, models=(args.model,), port=args.port)
        fake.start()
        print(f"fake vLLM serving on {args.port} (pid {os.getpid()})", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1:])
