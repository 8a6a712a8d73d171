"""A local OpenAI-compatible server for tests and benchmarks, speaking the real wire format.

`/v1/chat/completions` (JSON, or SSE `data: {...}` chunks ending with `data: [DONE]` when
`"stream": true`), `/v1/models`, and OpenAI-style errors (`{"error": {"message", "type",
"code", "param"}}` with a status code and optional headers such as Retry-After). It runs on
127.0.0.1 on a free port in a background thread, so the real `openai` client code is what the
tests exercise.

Scripting, per test:
    fake.reply("[happy] Hello there!")             # next answer (queued, FIFO)
    fake.reply_json({"description": "..."})        # next answer is this JSON text
    fake.fail(503, "overloaded", times=2)          # the next 2 requests fail with 503
    fake.reply("slow", token_rate=20, delay=0.5)   # 20 tokens/s after 0.5 s before the headers
    fake.default = Reply("[neutral] OK.")          # used when the queue is empty
    fake.responder = lambda body: Reply(...)       # or compute the answer from the request
    fake.requests                                  # every request received (RecordedRequest)
"""
from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN_RE = re.compile(r"\s*\S+|\s+")


# 61 distinct common words: long replies made of them never look like a loop to the chat's
# loop detector (inference.llm.loops: a 6-word n-gram 3 times in 120 words), as "word " * 300 does.
_VARIED = (
    "the quick brown fox jumps over a lazy dog while seven green birds sing near an old river bank "
    "under tall trees where children play games after school and their parents cook dinner at home "
    "before night falls across quiet hills with soft rain on small red roofs of every town we know "
    "today many people walk slowly through busy streets"
).split()


def varied_words(n: int, first: str = "") -> str:
    """`n` words (starting with `first`, if given) that do not repeat themselves within 61 words."""
    words = ([first] if first else []) + [_VARIED[i % len(_VARIED)] for i in range(n - (1 if first else 0))]
    return " ".join(words) + " "


# A long reply that does not repeat itself (the loop detector would cut a repeated sentence after
# its third round, and a test that talks over the character would find it already silent).
STORY = (
    "The little boat sailed on across the wide blue sea. A gull followed it past the old lighthouse. "
    "By noon the wind had turned and the sails were full. Far ahead, a green island rose from the waves. "
    "The sailor counted the palm trees along its sandy shore. Children ran down to the water to wave hello. "
    "An old fisherman showed him where to tie the rope. That night they shared bread and told stories by the fire."
)


def split_tokens(text: str) -> list[str]:
    """Word-ish pieces with their leading spaces, so joining them gives the text back."""
    return TOKEN_RE.findall(text) or [text]


@dataclass
class Reply:
    """One scripted answer (or failure when status != 200)."""

    text: str = "[neutral] OK."
    tokens: list[str] | None = None  # explicit stream pieces; default split_tokens(text)
    token_rate: float | None = None  # tokens per second when streaming; None = server default
    delay: float = 0.0  # seconds before the response starts (before the first token)
    status: int = 200
    error_message: str = ""
    error_type: str = "server_error"
    error_code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    finish_reason: str = "stop"
    error_after_tokens: int | None = None  # stream this many tokens, then cut the connection
    prompt_tokens: int | None = None

    def pieces(self) -> list[str]:
        return list(self.tokens) if self.tokens is not None else split_tokens(self.text)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    received_at: float
    first_byte_at: float | None = None  # when the first content token was written (monotonic)
    finished_at: float | None = None
    disconnected: bool = False  # the client went away mid-stream (cancel)
    tokens_sent: int = 0

    @property
    def stream(self) -> bool:
        return bool(self.body and self.body.get("stream"))

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages") or [])


class FakeOpenAI:
    def __init__(self, *, models: tuple[str, ...] = ("fake-model",), token_rate: float | None = None) -> None:
        self.models = list(models)
        self.token_rate = token_rate  # default tokens/s when streaming (None = as fast as possible)
        self.default = Reply()
        self.responder: Callable[[dict[str, Any]], Reply] | None = None
        self.requests: list[RecordedRequest] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.active_streams = 0
        self.max_active_streams = 0
        self._connections: set[Any] = set()

    # --- scripting ------------------------------------------------------------------------------
    def reply(self, text: str = "[neutral] OK.", **options: Any) -> Reply:
        item = Reply(text=text, **options)
        with self._lock:
            self._queue.append(item)
        return item

    def reply_json(self, value: Any, **options: Any) -> Reply:
        return self.reply(json.dumps(value, ensure_ascii=False), **options)

    def fail(self, status: int, message: str = "Upstream failure", *, times: int = 1, error_type: str | None = None,
             code: str | None = None, headers: dict[str, str] | None = None, delay: float = 0.0) -> None:
        for _ in range(times):
            with self._lock:
                self._queue.append(
                    Reply(text="", status=status, error_message=message, error_type=error_type or _error_type(status),
                          error_code=code, headers=dict(headers or {}), delay=delay)
                )

    def fail_context_length(self) -> None:
        self.fail(400, "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens.",
                  error_type="invalid_request_error", code="context_length_exceeded")

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()

    @property
    def completions(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self.responder is not None:
            return self.responder(body)
        return self.default

    # --- lifecycle ------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        # Keep-alive connections outlive serve_forever: cut them so clients see a dead server.
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(2)
            except OSError:
                pass

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def model_config(self, name: str = "fake", **overrides: Any) -> dict[str, Any]:
        """An entry for settings.LLM_MODELS pointing at this server."""
        return {"name": name, "base_url": self.base_url, "model": self.models[0], "api_key": "test-key",
                "context_length": 8192, "max_tokens": 512, "temperature": 0.7, "timeout": 10, **overrides}


def _error_type(status: int) -> str:
    return {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "not_found_error",
            429: "rate_limit_error"}.get(status, "server_error")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small SSE writes must leave at once (no 40 ms Nagle delay)
    server_fake: FakeOpenAI

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
        return

    def setup(self) -> None:
        super().setup()
        with self.server_fake._lock:
            self.server_fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.server_fake._lock:
            self.server_fake._connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def _record(self, body: dict[str, Any] | None) -> RecordedRequest:
        rec = RecordedRequest(method=self.command, path=self.path, headers={k.lower(): v for k, v in self.headers.items()},
                              body=body, received_at=time.monotonic())
        with self.server_fake._lock:
            self.server_fake.requests.append(rec)
        return rec

    def _send_json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, val in (headers or {}).items():
            self.send_header(name, val)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._record(None)
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            created = int(time.time())
            data = [{"id": m, "object": "model", "created": created, "owned_by": "fake"} for m in self.server_fake.models]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._send_json(404, {"error": {"message": f"Unknown path {self.path}", "type": "not_found_error", "code": None, "param": None}})

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._record(None)
            self._send_json(400, {"error": {"message": "Invalid JSON body", "type": "invalid_request_error", "code": None, "param": None}})
            return
        rec = self._record(body)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send_json(404, {"error": {"message": f"Unknown path {self.path}", "type": "not_found_error", "code": None, "param": None}})
            return
        if body.get("model") not in self.server_fake.models:
            self._send_json(404, {"error": {"message": f"The model `{body.get('model')}` does not exist.", "type": "not_found_error",
                                            "code": "model_not_found", "param": "model"}})
            return
        reply = self.server_fake._next_reply(body)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.status != 200:
            self._send_json(reply.status, {"error": {"message": reply.error_message, "type": reply.error_type,
                                                     "code": reply.error_code, "param": None}}, reply.headers)
            return
        if body.get("stream"):
            self._stream(rec, body, reply)
        else:
            self._complete(rec, body, reply)
        rec.finished_at = time.monotonic()

    def _usage(self, body: dict[str, Any], reply: Reply, completion_tokens: int) -> dict[str, int]:
        prompt = reply.prompt_tokens
        if prompt is None:
            prompt = sum(len(split_tokens(str(m.get("content") or ""))) + 4 for m in body.get("messages") or [])
        return {"prompt_tokens": prompt, "completion_tokens": completion_tokens, "total_tokens": prompt + completion_tokens}

    def _complete(self, rec: RecordedRequest, body: dict[str, Any], reply: Reply) -> None:
        pieces = reply.pieces()
        rec.tokens_sent = len(pieces)
        rec.first_byte_at = time.monotonic()
        self._send_json(200, {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(pieces)}, "finish_reason": reply.finish_reason, "logprobs": None}],
            "usage": self._usage(body, reply, len(pieces)),
        })

    def _write_chunk(self, payload: bytes) -> None:
        self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        self.wfile.flush()

    def _stream(self, rec: RecordedRequest, body: dict[str, Any], reply: Reply) -> None:
        fake = self.server_fake
        rate = reply.token_rate if reply.token_rate is not None else fake.token_rate
        interval = 1.0 / rate if rate else 0.0
        cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        created = int(time.time())
        model = body.get("model")

        def event(delta: dict[str, Any], finish: str | None = None, usage: dict | None = None) -> bytes:
            chunk: dict[str, Any] = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}
            if usage is not None:
                chunk["usage"] = usage
            return b"data: " + json.dumps(chunk).encode() + b"\n\n"

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        with fake._lock:
            fake.active_streams += 1
            fake.max_active_streams = max(fake.max_active_streams, fake.active_streams)
        pieces = reply.pieces()
        started = time.monotonic()
        try:
            self._write_chunk(event({"role": "assistant", "content": ""}))
            for index, piece in enumerate(pieces):
                if reply.error_after_tokens is not None and index >= reply.error_after_tokens:
                    self.close_connection = True
                    self.wfile.flush()
                    self.connection.shutdown(2)  # abrupt end: the client sees a broken stream
                    return
                if interval:
                    # Pace against the start so the rate holds however long writes take.
                    wait = started + index * interval - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                self._write_chunk(event({"content": piece}))
                if rec.first_byte_at is None:
                    rec.first_byte_at = time.monotonic()
                rec.tokens_sent += 1
            usage = self._usage(body, reply, len(pieces)) if (body.get("stream_options") or {}).get("include_usage") else None
            self._write_chunk(event({}, reply.finish_reason, usage))
            self._write_chunk(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError):
            rec.disconnected = True
            self.close_connection = True
        finally:
            with fake._lock:
                fake.active_streams -= 1
