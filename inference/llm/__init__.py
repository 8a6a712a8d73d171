"""The LLM gateway: the ONLY code that talks to a language model.

Every model is reached through the `openai` client against an OpenAI-compatible endpoint (vLLM,
Ollama's /v1, Groq, llama.cpp server, the embedded model server). Everything else asks this
package: `list_models`, `get_model`, `complete` (sync, optionally JSON matching a schema) and
`stream_chat` (async, token by token). Failures are `LLMError`s (errors.py); transient ones are
retried by one loop (retry.py); a stream only before its first token.

    config.py    models from settings, per-model capabilities (ModelConfig)
    errors.py    LLMError and the translation of client errors into its codes
    client.py    the openai client construction (the one place), and ping
    retry.py     the one retry loop
    completion.py  non-streaming answers (`complete`), JSON mode
    stream.py    streaming answers (`stream_chat`)
    loops.py     the loop detector a streamed reply is checked with (`LoopDetector`)
    constrain.py constrained decoding of a reply's start (`ReplyPrefix`: grammar / regex per model)
"""
from .client import ping
from .completion import complete, extract_json_object
from .config import EMBEDDED_MODEL_NAME, ModelConfig, get_model, list_models, llm_configured
from .constrain import ReplyPrefix
from .errors import LLMError
from .stream import StreamEvent, stream_chat

__all__ = [
    "EMBEDDED_MODEL_NAME", "LLMError", "ModelConfig", "ReplyPrefix", "StreamEvent", "complete", "extract_json_object", "get_model",
    "list_models", "llm_configured", "ping", "stream_chat",
]
