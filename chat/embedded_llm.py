"""The embedded default model: a local OpenAI-compatible server started by `make run` when no
LLM is configured. Filled in below; the gateway only needs these constants."""
from __future__ import annotations

MODEL_ID = "smollm2-135m-instruct"
MODEL_LABEL = "SmolLM2 135M Instruct (embedded)"
CONTEXT_LENGTH = 4096
PARALLEL_SLOTS = 2
