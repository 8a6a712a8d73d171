"""Which models exist and what each can do: read from settings (LLM_MODELS, or LLM_BASE_URL and
friends, or the embedded model when nothing is configured) on every call, so tests and a changed
environment take effect without a restart."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from avatarforge.errors import AppError
from inference import embedded_llm

EMBEDDED_MODEL_NAME = "embedded"

# What `json_mode` in a model config may say. "auto" tries json_schema, then json_object, then
# plain text, and remembers per model what the endpoint accepted.
JSON_MODES = ("auto", "json_schema", "json_object", "none")

# What `constrain` may say: how the endpoint can be made to start a reply with one of a few fixed
# prefixes (the chat's emotion tag), see constrain.py. "llama_grammar": llama.cpp's `grammar`
# (GBNF) field; "vllm_regex": vLLM's `structured_outputs: {"regex"}` (vLLM >= 0.10);
# "vllm_guided_regex": the older `guided_regex` field; "none": ask in the prompt and parse.
CONSTRAIN_MODES = ("none", "llama_grammar", "vllm_regex", "vllm_guided_regex")

# Body fields `extra_body` must not set: the gateway owns them.
_RESERVED_BODY_FIELDS = frozenset({
    "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens", "temperature",
    "frequency_penalty", "presence_penalty", "response_format", "grammar", "guided_regex", "structured_outputs", "n",
})

# Sampling of the embedded SmolLM2-135M, which falls into loops with plain sampling (2 of 6 test
# prompts looped for 256 tokens; with these, 0 of 6): llama.cpp's repeat penalty over the last
# 128 tokens plus a mild frequency penalty. A chat reply is capped at 160 tokens (about 120
# English words; ~5 s at the ~30 tokens/s of a loaded 2-core machine, where 256-token replies
# took 10-50 s in bench.chat_quality under heavy load).
EMBEDDED_SAMPLING: dict[str, Any] = {"repeat_penalty": 1.1, "repeat_last_n": 128}
EMBEDDED_FREQUENCY_PENALTY = 0.3
EMBEDDED_CHAT_MAX_TOKENS = 160


@dataclass(frozen=True)
class ModelConfig:
    """One configured model. `name` is ours (stable id in the API); `model` is the upstream id."""

    name: str
    base_url: str
    model: str
    api_key: str = "not-needed"
    label: str = ""
    context_length: int = 8192
    max_tokens: int = 512
    temperature: float = 0.7
    timeout: float = 60.0
    json_mode: str = "auto"
    max_concurrency: int = 12
    embedded: bool = False
    # The GPU host mode this model's server needs ("chat" for vLLM on a switching GPU host,
    # docs/gpu.md): chat turns wait for it and hold it while they stream. Empty: no GPU host.
    gpu_mode: str = ""
    # Sampling: None = the endpoint's default (not sent). `extra_body`: fields only some servers
    # know, sent as they are (llama.cpp `repeat_penalty`, vLLM `repetition_penalty`, `top_k`...).
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    extra_body: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # A chat reply's cap (None: max_tokens); other calls (summaries, the wizard) ask their own.
    chat_max_tokens: int | None = None
    constrain: str = "none"
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def reply_tokens(self) -> int:
        """Most tokens of one chat reply."""
        return min(self.chat_max_tokens or self.max_tokens, self.max_tokens)

    @property
    def pool(self) -> str:
        """Which slot pool replies of this model take: one per upstream server (its base URL),
        since the server's batch size (vLLM max_num_seqs) is what the limit protects."""
        return self.base_url

    def public(self) -> dict[str, Any]:
        """What the API may show: never the key or the URL (it can hold credentials)."""
        return {
            "name": self.name,
            "label": self.label or self.name,
            "context_length": self.context_length,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "embedded": self.embedded,
        }


def _positive_int(raw: dict[str, Any], key: str, default: int, minimum: int = 1) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"LLM model {raw.get('name')!r}: {key} must be an integer >= {minimum}")
    return value


def _timeout_seconds(raw: dict[str, Any], name: str) -> float:
    value = raw.get("timeout", settings.LLM_TIMEOUT)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 3600:
        raise ValueError(f"LLM model {name!r}: timeout must be a number of seconds between 0 and 3600")
    return float(value)


def _penalty(raw: dict[str, Any], key: str, name: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -2 <= value <= 2:
        raise ValueError(f"LLM model {name!r}: {key} must be a number between -2 and 2")
    return float(value)


def _extra_body(raw: dict[str, Any], name: str) -> dict[str, Any]:
    value = raw.get("extra_body") or {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ValueError(f"LLM model {name!r}: extra_body must be an object")
    reserved = sorted(_RESERVED_BODY_FIELDS & set(value))
    if reserved:
        raise ValueError(f"LLM model {name!r}: extra_body may not set {', '.join(reserved)} (the gateway sets them)")
    return dict(value)


def _model_from_dict(raw: dict[str, Any], index: int) -> ModelConfig:
    name = str(raw.get("name") or raw.get("model") or f"model-{index + 1}").strip()
    base_url = str(raw.get("base_url") or "").strip()
    if not base_url.startswith(("http://", "https://")):
        raise ValueError(f"LLM model {name!r}: base_url must be an http(s) URL")
    temperature = raw.get("temperature", 0.7)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 <= temperature <= 2:
        raise ValueError(f"LLM model {name!r}: temperature must be a number between 0 and 2")
    json_mode = str(raw.get("json_mode", "auto"))
    if json_mode not in JSON_MODES:
        raise ValueError(f"LLM model {name!r}: json_mode must be one of {', '.join(JSON_MODES)}")
    context_length = _positive_int(raw, "context_length", settings.LLM_CONTEXT_LENGTH, 512)
    max_tokens = _positive_int(raw, "max_tokens", settings.LLM_MAX_TOKENS)
    if max_tokens >= context_length // 2:
        raise ValueError(f"LLM model {name!r}: max_tokens must be less than half of context_length")
    chat_max_tokens = None
    if raw.get("chat_max_tokens") is not None:
        chat_max_tokens = _positive_int(raw, "chat_max_tokens", max_tokens)
        if chat_max_tokens > max_tokens:
            raise ValueError(f"LLM model {name!r}: chat_max_tokens must not exceed max_tokens")
    constrain = str(raw.get("constrain", "none"))
    if constrain not in CONSTRAIN_MODES:
        raise ValueError(f"LLM model {name!r}: constrain must be one of {', '.join(CONSTRAIN_MODES)}")
    known = {"name", "base_url", "model", "api_key", "label", "context_length", "max_tokens", "temperature", "timeout", "json_mode",
             "max_concurrency", "embedded", "frequency_penalty", "presence_penalty", "extra_body", "chat_max_tokens", "constrain", "gpu_mode"}
    return ModelConfig(
        name=name,
        base_url=base_url.rstrip("/"),
        model=str(raw.get("model") or name),
        api_key=str(raw.get("api_key") or "not-needed"),
        label=str(raw.get("label") or name),
        context_length=context_length,
        max_tokens=max_tokens,
        temperature=float(temperature),
        timeout=_timeout_seconds(raw, name),
        json_mode=json_mode,
        max_concurrency=_positive_int(raw, "max_concurrency", settings.LLM_MAX_CONCURRENCY),
        embedded=bool(raw.get("embedded", False)),
        gpu_mode=_gpu_mode(raw, name),
        frequency_penalty=_penalty(raw, "frequency_penalty", name),
        presence_penalty=_penalty(raw, "presence_penalty", name),
        extra_body=_extra_body(raw, name),
        chat_max_tokens=chat_max_tokens,
        constrain=constrain,
        extra={k: v for k, v in raw.items() if k not in known},
    )


def _gpu_mode(raw: dict, name: str) -> str:
    mode = str(raw.get("gpu_mode") or "")
    if mode and not mode.isidentifier():
        raise ValueError(f"LLM model {name!r}: gpu_mode must be a GPU mode name such as chat")
    return mode


def embedded_model_config() -> ModelConfig:
    """The embedded local model server that `make run` starts when no LLM is configured."""
    # The most one call may ask (the wizard's character sheet needs ~1,000 tokens); chat replies
    # take chat_max_tokens.
    max_tokens = embedded_llm.CONTEXT_LENGTH // 4
    return ModelConfig(
        name=EMBEDDED_MODEL_NAME,
        base_url=f"http://127.0.0.1:{settings.EMBEDDED_LLM_PORT}/v1",
        model=embedded_llm.MODEL_ID,
        label=embedded_llm.MODEL_LABEL,
        context_length=embedded_llm.CONTEXT_LENGTH,
        max_tokens=max_tokens,
        temperature=0.7,
        timeout=float(settings.LLM_TIMEOUT),
        json_mode="json_schema",  # llama.cpp enforces the schema with a grammar
        # A small CPU model serves requests one after another; queue the rest fairly.
        max_concurrency=min(settings.LLM_MAX_CONCURRENCY, embedded_llm.PARALLEL_SLOTS),
        embedded=True,
        frequency_penalty=EMBEDDED_FREQUENCY_PENALTY,
        extra_body=dict(EMBEDDED_SAMPLING),
        chat_max_tokens=min(EMBEDDED_CHAT_MAX_TOKENS, max_tokens),
        constrain="llama_grammar",  # llama.cpp's server takes a GBNF grammar per request
    )


def llm_configured() -> bool:
    """True when the operator configured an endpoint (so the embedded server is not needed)."""
    return bool(settings.LLM_MODELS or settings.LLM_BASE_URL)


def list_models() -> list[ModelConfig]:
    """Configured models, first = default. Read from settings on every call (cheap; tests change them)."""
    if settings.LLM_MODELS:
        models = [_model_from_dict(raw, i) for i, raw in enumerate(settings.LLM_MODELS)]
        names = [m.name for m in models]
        if len(set(names)) != len(names):
            raise ValueError("LLM_MODELS: model names must be unique")
        return models
    if settings.LLM_BASE_URL:
        return [
            _model_from_dict(
                {
                    "name": settings.LLM_MODEL or "default",
                    "model": settings.LLM_MODEL or "default",
                    "base_url": settings.LLM_BASE_URL,
                    "api_key": settings.LLM_API_KEY,
                    "context_length": settings.LLM_CONTEXT_LENGTH,
                    "max_tokens": settings.LLM_MAX_TOKENS,
                    "timeout": settings.LLM_TIMEOUT,
                },
                0,
            )
        ]
    return [embedded_model_config()]


def get_model(name: str | None) -> ModelConfig:
    """The named model, or the default (first) one when name is empty. Unknown names: 400."""
    models = list_models()
    if not name:
        return models[0]
    for cfg in models:
        if cfg.name == name:
            return cfg
    raise AppError(
        _("Unknown model “%(name)s”.") % {"name": name[:100]},
        code="unknown_model",
        details={"available": [m.name for m in models]},
    )
