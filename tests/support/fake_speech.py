"""Local stand-ins for GPU speech servers, speaking their real wire formats on 127.0.0.1.

- FakeOpenAiAudio: `POST /v1/audio/speech` (JSON in; `response_format: "pcm"` streams raw
  24 kHz 16-bit mono with chunked transfer encoding, as the OpenAI API does), `POST
  /v1/audio/transcriptions` (multipart upload, JSON `{"text"}` out), `GET /v1/models`, and
  OpenAI-style errors `{"error": {...}}`.
- FakeSovits: GPT-SoVITS `api_v2.py` `POST /tts` (JSON in; with `streaming_mode` and
  `media_type: "wav"` a WAV header first, then raw PCM chunks; 400 `{"message"}` on bad input).

Both speak real words: they synthesize the requested text with espeak-ng, so a test can run
the audio through speech recognition and check the words survived the trip. The transcription
route calls a function the test passes in (the embedded Whisper engine).
"""
from __future__ import annotations

import abc
import json
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from inference.speech.audio import float_to_pcm16, read_wav, resample, streaming_wav_header

CHUNK = 3200


def espeak_pcm(text: str, language: str, rate: int, speed: int = 150) -> bytes:
    """16-bit mono PCM of `text` spoken by espeak-ng, resampled to `rate`."""
    wav = subprocess.run(["espeak-ng", "-v", language, "-s", str(speed), "--stdout"], input=text.encode(), capture_output=True, check=True).stdout
    samples, source_rate = read_wav(wav)
    return float_to_pcm16(resample(samples, source_rate, rate))


@dataclass
class Recorded:
    path: str
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class _Server(abc.ABC):
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.fail_status: int | None = None
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                owner.handle(self, "GET")

            def do_POST(self) -> None:
                owner.handle(self, "POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @abc.abstractmethod
    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        """Answer one request the way the engine's real server does."""

    @staticmethod
    def read_body(request: BaseHTTPRequestHandler) -> bytes:
        return request.rfile.read(int(request.headers.get("Content-Length") or 0))

    @staticmethod
    def send_json(request: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    @staticmethod
    def send_chunked(request: BaseHTTPRequestHandler, content_type: str, parts: list[bytes], delay: float = 0.0) -> None:
        request.send_response(200)
        request.send_header("Content-Type", content_type)
        request.send_header("Transfer-Encoding", "chunked")
        request.end_headers()
        for part in parts:
            if delay:
                time.sleep(delay)
            request.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            request.wfile.flush()
        request.wfile.write(b"0\r\n\r\n")


class FakeOpenAiAudio(_Server):
    def __init__(self, *, transcriber: Callable[[bytes, str | None], str] | None = None, language: str = "en") -> None:
        super().__init__()
        self.transcriber = transcriber
        self.language = language  # espeak-ng voice for /audio/speech

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def speech_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/audio/speech")]

    def error(self, request: BaseHTTPRequestHandler, status: int, message: str, param: str | None = None) -> None:
        self.send_json(request, status, {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": None}})

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        path = request.path.split("?")[0]
        if method == "GET" and path == "/v1/models":
            self.send_json(request, 200, {"object": "list", "data": [{"id": "tts-1", "object": "model", "created": 0, "owned_by": "fake"}]})
            return
        raw = self.read_body(request)
        if self.fail_status:
            self.requests.append(Recorded(path, None))
            self.error(request, self.fail_status, "The server had an error while processing your request.")
            return
        if path == "/v1/audio/speech":
            body = json.loads(raw)
            self.requests.append(Recorded(path, body, {k.lower(): v for k, v in request.headers.items()}))
            if not body.get("input") or not body.get("voice") or not body.get("model"):
                self.error(request, 400, "model, input and voice are required", "input")
                return
            if body.get("response_format", "mp3") != "pcm":
                self.error(request, 400, "this fake speaks pcm only", "response_format")
                return
            speed = float(body.get("speed", 1.0))
            pcm = espeak_pcm(body["input"], self.language, 24000, speed=round(150 * speed))
            self.send_chunked(request, "audio/pcm", [pcm[i:i + CHUNK] for i in range(0, len(pcm), CHUNK)])
            return
        if path == "/v1/audio/transcriptions":
            message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + request.headers["Content-Type"].encode() + b"\r\n\r\n" + raw)
            fields: dict[str, Any] = {}
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                fields[name] = part.get_payload(decode=True) if part.get_filename() else part.get_content().strip()
            self.requests.append(Recorded(path, {k: (v if isinstance(v, str) else f"<{len(v)} bytes>") for k, v in fields.items()}))
            if "file" not in fields or "model" not in fields:
                self.error(request, 400, "file and model are required", "file")
                return
            text = self.transcriber(fields["file"], fields.get("language")) if self.transcriber else ""
            self.send_json(request, 200, {"text": text})
            return
        self.error(request, 404, f"no route {path}")


SOVITS_LANGS = {"all_zh", "en", "all_ja", "zh", "ja", "auto", "all_yue", "yue", "all_ko", "ko", "auto_yue"}
SOVITS_RATE = 32000


class FakeSovits(_Server):
    """GPT-SoVITS api_v2: reference clips it knows are `ref_clips` (path -> espeak voice)."""

    def __init__(self, *, ref_clips: dict[str, str]) -> None:
        super().__init__()
        self.ref_clips = ref_clips

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        path = request.path.split("?")[0]
        if path != "/tts":
            self.send_json(request, 404, {"detail": "Not Found"})
            return
        raw = self.read_body(request)
        body = json.loads(raw) if method == "POST" and raw else {}
        self.requests.append(Recorded(path, body))
        # The same checks, in the same order, as api_v2.py's check_params.
        if not body.get("text"):
            self.send_json(request, 400, {"message": "text is required"})
            return
        if not body.get("ref_audio_path"):
            self.send_json(request, 400, {"message": "ref_audio_path is required"})
            return
        if body.get("text_lang", "").lower() not in SOVITS_LANGS:
            self.send_json(request, 400, {"message": f"text_lang: {body.get('text_lang')} is not supported in version v2"})
            return
        if body.get("prompt_lang", "").lower() not in SOVITS_LANGS:
            self.send_json(request, 400, {"message": f"prompt_lang: {body.get('prompt_lang')} is not supported in version v2"})
            return
        media_type = body.get("media_type", "wav")
        if media_type not in ("wav", "raw", "ogg", "aac"):
            self.send_json(request, 400, {"message": f"media_type: {media_type} is not supported"})
            return
        if body["ref_audio_path"] not in self.ref_clips:
            self.send_json(request, 400, {"message": "tts failed", "Exception": f"{body['ref_audio_path']} not exists"})
            return
        pcm = espeak_pcm(body["text"], self.ref_clips[body["ref_audio_path"]], SOVITS_RATE, speed=round(150 * float(body.get("speed_factor", 1.0))))
        if body.get("streaming_mode"):
            parts = [pcm[i:i + 6400] for i in range(0, len(pcm), 6400)]
            if media_type == "wav":
                parts.insert(0, streaming_wav_header(SOVITS_RATE))
            self.send_chunked(request, f"audio/{media_type}", parts)
        else:
            from inference.speech.audio import wav_bytes

            data = wav_bytes(pcm, SOVITS_RATE) if media_type == "wav" else pcm
            request.send_response(200)
            request.send_header("Content-Type", f"audio/{media_type}")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
