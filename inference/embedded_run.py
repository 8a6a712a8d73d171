"""`make run`'s provider for the embedded model server: started only when no LLM is configured."""
from __future__ import annotations

import sys

from django.conf import settings

from avatarforge.embedded import Process, free_port

from . import embedded_llm
from .llm.config import llm_configured


def process_for_embedded_run(env: dict[str, str]) -> Process | None:
    """Registered with avatarforge.embedded (chat's AppConfig.ready): the model server process."""
    if llm_configured() or env.get("LLM_MODELS") or env.get("LLM_BASE_URL"):
        return None
    if not embedded_llm.runtime_available():
        print("[embedded] xllamacpp is not installed: chat will report the model as unreachable. Run `make setup`.",
              file=sys.stderr)
        return None
    try:
        embedded_llm.model_path()
    except embedded_llm.EmbeddedModelMissing as exc:
        print(f"[embedded] {exc}", file=sys.stderr)
        return None
    port = free_port(settings.EMBEDDED_LLM_PORT)
    # Daphne and the worker start after this and read the port from their environment.
    env["EMBEDDED_LLM_PORT"] = str(port)
    return Process("llm", [sys.executable, "-m", "inference.embedded_llm", "--port", str(port)], ready_port=port)
