"""Client side of upload measurements: a multipart POST streamed from a file (the client never
holds the file in memory either) and a sampler of another process's RSS.

Used by `python -m bench.upload` and by the upload memory test (tests/platform/test_upload_memory.py).
"""
from __future__ import annotations

import http.client
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

CHUNK = 256 * 1024


@dataclass
class UploadResult:
    status: int
    body: bytes
    ms: float

    def json(self) -> Any:
        return json.loads(self.body or b"null")


def post_multipart_file(url: str, *, path: Path, field: str = "file", filename: str | None = None,
                        fields: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                        timeout: float = 600.0) -> UploadResult:
    """POST `path` as multipart/form-data with an exact Content-Length, streamed in CHUNK pieces."""
    boundary = f"----bench{uuid.uuid4().hex}"
    head = b""
    for name, value in (fields or {}).items():
        head += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").encode()
    head += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
             f"filename=\"{filename or path.name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + path.stat().st_size + len(tail)
    all_headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(length),
                   **(headers or {})}
    return _send(url, "POST", all_headers, [head], path, [tail], timeout)


def post_form_to_bucket(url: str, *, form: dict[str, str], path: Path, timeout: float = 600.0) -> UploadResult:
    """An S3 presigned POST: the policy fields first, the file last (S3 ignores fields after it)."""
    return post_multipart_file(url, path=path, fields=form, timeout=timeout)


def _send(url: str, method: str, headers: dict[str, str], before: list[bytes], path: Path, after: list[bytes],
          timeout: float) -> UploadResult:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    start = time.perf_counter()
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        try:
            for piece in before:
                conn.send(piece)
            with open(path, "rb") as fh:
                while block := fh.read(CHUNK):
                    conn.send(block)
            for piece in after:
                conn.send(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early (413) and closed; read its answer below
        response = conn.getresponse()
        body = response.read()
        return UploadResult(response.status, body, (time.perf_counter() - start) * 1000)
    finally:
        conn.close()


class RssSampler:
    """Samples a process's RSS every `interval` seconds in a thread; `peak_growth_mb` is the
    highest RSS seen minus the RSS when sampling started."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self._proc = psutil.Process(pid)
        self._interval = interval
        self._stop = threading.Event()
        self.baseline = 0
        self.peak = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self.baseline = self.peak = self._proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _sample(self) -> None:
        try:
            self.peak = max(self.peak, self._proc.memory_info().rss)
        except psutil.Error:
            pass

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    @property
    def peak_growth_mb(self) -> float:
        return max(0, self.peak - self.baseline) / 2**20


def file_of_size(path: Path, size: int) -> Path:
    """Random bytes (incompressible) of exactly `size`, written in pieces."""
    with open(path, "wb") as out:
        left = size
        while left:
            n = min(left, 1024 * 1024)
            out.write(os.urandom(n))
            left -= n
    return path
