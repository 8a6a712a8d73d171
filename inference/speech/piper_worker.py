"""Piper (GPL-3.0) in its own process: `python -m inference.speech.piper_worker MODEL.onnx`.

This file is the only one that imports piper, and it runs only as this separate program, never
inside Django or a worker. Protocol (one JSON object per line; audio as raw bytes after a header):

  stdout at start:   {"ready": true, "sample_rate": 22050, "alignments": true}
  stdin request:     {"id": "r1", "text": "Hello there.", "length_scale": 1.0}
  stdin cancel:      {"cancel": "r1"}          (stops after the sentence being synthesized)
  stdout per chunk:  {"id": "r1", "bytes": N, "sample_rate": 22050, "alignments": [["h", 1280], ...],
                      "engine_ms": 212.5}   (time since the request arrived: the engine's own share)
                     followed by N bytes of 16-bit little-endian mono PCM
  stdout at the end: {"id": "r1", "done": true}   or   {"id": "r1", "error": "..."}
"""
from __future__ import annotations

import json
import queue
import sys
import threading
import time


def main() -> int:
    model = sys.argv[1]
    from piper import PiperVoice
    from piper.config import SynthesisConfig

    try:
        voice = PiperVoice.load(model, include_alignments=True)
        aligned = True
    except Exception:  # noqa: BLE001 - the onnx package may be missing: speak without alignments
        voice = PiperVoice.load(model)
        aligned = False
    out = sys.stdout.buffer
    write_lock = threading.Lock()

    def send(header: dict, payload: bytes = b"") -> None:
        with write_lock:
            out.write(json.dumps(header).encode() + b"\n" + payload)
            out.flush()

    requests: queue.Queue[dict | None] = queue.Queue()
    cancelled: set[str] = set()

    def read_stdin() -> None:
        for line in sys.stdin.buffer:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "cancel" in message:
                cancelled.add(str(message["cancel"]))
            else:
                message["_received"] = time.perf_counter()
                requests.put(message)
        requests.put(None)

    threading.Thread(target=read_stdin, daemon=True).start()
    send({"ready": True, "sample_rate": voice.config.sample_rate, "alignments": aligned})
    while (request := requests.get()) is not None:
        request_id = str(request.get("id"))
        try:
            config = SynthesisConfig(length_scale=float(request.get("length_scale") or 1.0))
            for chunk in voice.synthesize(str(request.get("text", "")), syn_config=config, include_alignments=aligned):
                if request_id in cancelled:
                    break
                pcm = chunk.audio_int16_bytes
                alignments = [[a.phoneme, int(a.num_samples)] for a in (chunk.phoneme_alignments or [])]
                engine_ms = round((time.perf_counter() - request["_received"]) * 1000, 2)
                send({"id": request_id, "bytes": len(pcm), "sample_rate": chunk.sample_rate, "alignments": alignments, "engine_ms": engine_ms}, pcm)
            send({"id": request_id, "done": True})
        except Exception as exc:  # noqa: BLE001 - report every failure to the client and keep serving
            send({"id": request_id, "error": f"{type(exc).__name__}: {exc}"})
        cancelled.discard(request_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
