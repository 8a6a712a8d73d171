"""LLM gateway: the ONLY module that talks to a language model.

Every model is reached through the `openai` client against an OpenAI-compatible endpoint (vLLM,
Ollama's /v1, Groq, llama.cpp server, the embedded model server). Everything else in the project
asks this module: `list_models`, `get_model`, `complete` (sync, non-streaming, optionally JSON
that matches a schema) and `stream_chat` (async, token by token).

Failures become the project's error family (`LLMError`, an AppError) with codes a person can act
on: llm_unreachable, llm_timeout, llm_rate_limited, llm_context_too_long, llm_auth_failed,
llm_model_not_found, llm_upstream_error, llm_bad_response, llm_not_configured. Transient failures
(connection, timeout, 429, 5xx) are retried up to MAX_RETRIES times with exponential backoff; a
stream is only retried before its first token, never after (the client already shows text).
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import threading
import time
import weakref
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx2
import openai
from django.conf import settings
from django.utils.translation import gettext as _

from avatarforge.errors import AppError

logger = logging.getLogger(__name__)
# One INFO line per HTTP request from the client library is noise; our retries log themselves.
logging.getLogger("httpx2").setLevel(logging.WARNING)

MAX_RETRIES = 3
RETRY_BASE_DELAY = 0.25  # seconds; doubled each retry, with jitter (tests lower it)
RETRY_MAX_DELAY = 8.0  # an upstream's Retry-After longer than this is not waited for
EMBEDDED_MODEL_NAME = "embedded"

# What `json_mode` in a model config may say. "auto" tries json_schema, then json_object, then
# plain text, and remembers per model what the endpoint accepted.
JSON_MODES = ("auto", "json_schema", "json_object", "none")


# --- errors -------------------------------------------------------------------------------------
class LLMError(AppError):
    """A model call failed. `transient` failures may succeed on retry."""

    status = 502
    code = "llm_error"
    default_message = "The language model could not answer."
    transient = False

    def __init__(self, message: str | None = None, *, retry_after: float | None = None, transient: bool | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        if transient is not None:
            self.transient = transient


def _error(code: str, message: str, *, status: int, transient: bool, details: Any = None, retry_after: float | None = None) -> LLMError:
    return LLMError(message, code=code, status=status, transient=transient, details=details, retry_after=retry_after)


_CONTEXT_PATTERNS = re.compile(
    r"context[ _-]?length|maximum context|context window|too many tokens|prompt is too long|"
    r"exceeds? the (?:model'?s? )?(?:maximum|max)|input is too long|n_ctx|context_length_exceeded",
    re.IGNORECASE,
)


def _retry_after_of(exc: openai.APIStatusError) -> float | None:
    try:
        value = exc.response.headers.get("retry-after")
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def translate_error(exc: BaseException, cfg: ModelConfig) -> LLMError:
    """Map an openai/httpx exception to an LLMError with a code a person can act on."""
    if isinstance(exc, LLMError):
        return exc
    details = {"model": cfg.name}
    if isinstance(exc, openai.APITimeoutError):
        return _error("llm_timeout", _("The language model took too long to answer. Try again."), status=504, transient=True, details=details)
    if isinstance(exc, openai.APIConnectionError):
        return _error(
            "llm_unreachable",
            _("The language model server cannot be reached. Check that it is running, or try another model."),
            status=503, transient=True, details=details,
        )
    if isinstance(exc, openai.APIStatusError):
        upstream = str(getattr(exc, "message", "") or "")[:300]
        # The upstream's own words stay in the log: they can quote (part of) the API key, the
        # account or organization, the endpoint's internals. Users get our code and message.
        logger.warning("LLM %s answered %s: %s", cfg.name, exc.status_code, upstream)
        details = {**details, "upstream_status": exc.status_code}
        if isinstance(exc, openai.RateLimitError):
            retry_after = _retry_after_of(exc)
            return _error(
                "llm_rate_limited", _("The language model is busy. Try again shortly."),
                status=429, transient=True, details=details, retry_after=retry_after,
            )
        code = str(getattr(exc, "code", "") or "")
        if exc.status_code in (400, 413, 422) and (code == "context_length_exceeded" or _CONTEXT_PATTERNS.search(upstream)):
            return _error(
                "llm_context_too_long", _("The conversation is too long for this model. Try again or start a new conversation."),
                status=400, transient=False, details=details,
            )
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return _error("llm_auth_failed", _("The language model refused our credentials. An administrator must check the API key."), status=502, transient=False, details=details)
        if isinstance(exc, openai.NotFoundError):
            return _error("llm_model_not_found", _("The language model server does not know this model. An administrator must check the configuration."), status=502, transient=False, details=details)
        if exc.status_code >= 500:
            return _error("llm_upstream_error", _("The language model server failed. Try again shortly."), status=502, transient=True, details=details)
        return _error("llm_bad_request", _("The language model rejected the request."), status=502, transient=False, details=details)
    if isinstance(exc, (openai.APIResponseValidationError, json.JSONDecodeError, ValueError, KeyError, TypeError)):
        return _error("llm_bad_response", _("The language model sent an answer we could not read."), status=502, transient=False, details=details)
    if isinstance(exc, (httpx2.TransportError, OSError)):
        return _error("llm_unreachable", _("The language model server cannot be reached. Check that it is running, or try another model."), status=503, transient=True, details=details)
    if isinstance(exc, openai.OpenAIError):
        return _error("llm_bad_response", _("The language model sent an answer we could not read."), status=502, transient=False, details=details)
    raise exc


# --- configuration ------------------------------------------------------------------------------
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
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

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
    known = {"name", "base_url", "model", "api_key", "label", "context_length", "max_tokens", "temperature", "timeout", "json_mode", "max_concurrency", "embedded"}
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
        extra={k: v for k, v in raw.items() if k not in known},
    )


def embedded_model_config() -> ModelConfig:
    """The embedded local model server that `make run` starts when no LLM is configured."""
    from . import embedded_llm

    return ModelConfig(
        name=EMBEDDED_MODEL_NAME,
        base_url=f"http://127.0.0.1:{settings.EMBEDDED_LLM_PORT}/v1",
        model=embedded_llm.MODEL_ID,
        label=embedded_llm.MODEL_LABEL,
        context_length=embedded_llm.CONTEXT_LENGTH,
        max_tokens=min(settings.LLM_MAX_TOKENS, embedded_llm.CONTEXT_LENGTH // 4),
        temperature=0.7,
        timeout=float(settings.LLM_TIMEOUT),
        json_mode="json_schema",  # llama.cpp enforces the schema with a grammar
        # A small CPU model serves requests one after another; queue the rest fairly.
        max_concurrency=min(settings.LLM_MAX_CONCURRENCY, embedded_llm.PARALLEL_SLOTS),
        embedded=True,
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


# --- clients ------------------------------------------------------------------------------------
def _client_key(cfg: ModelConfig) -> tuple[str, str, float]:
    return (cfg.base_url, cfg.api_key, cfg.timeout)


def _timeout(cfg: ModelConfig) -> httpx2.Timeout:
    # read: the longest pause between two streamed chunks (or before a non-streamed answer).
    return httpx2.Timeout(cfg.timeout, connect=min(10.0, cfg.timeout))


_sync_clients: dict[tuple[str, str, float], openai.OpenAI] = {}
_sync_lock = threading.Lock()
# Async clients hold connection pools bound to one event loop, so they are cached per loop.
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str, float], openai.AsyncOpenAI]] = weakref.WeakKeyDictionary()


def _sync_client(cfg: ModelConfig) -> openai.OpenAI:
    key = _client_key(cfg)
    with _sync_lock:
        client = _sync_clients.get(key)
        if client is None:
            # max_retries=0: retries are ours (counted, logged, translated, and stream-aware).
            client = openai.OpenAI(base_url=cfg.base_url, api_key=cfg.api_key, timeout=_timeout(cfg), max_retries=0)
            _sync_clients[key] = client
        return client


def _async_client(cfg: ModelConfig) -> openai.AsyncOpenAI:
    loop = asyncio.get_running_loop()
    per_loop = _async_clients.setdefault(loop, {})
    key = _client_key(cfg)
    client = per_loop.get(key)
    if client is None:
        client = openai.AsyncOpenAI(base_url=cfg.base_url, api_key=cfg.api_key, timeout=_timeout(cfg), max_retries=0)
        per_loop[key] = client
    return client


def _backoff(attempt: int, error: LLMError) -> float:
    delay = RETRY_BASE_DELAY * (2 ** attempt) * (0.8 + 0.4 * random.random())
    if error.retry_after is not None:
        delay = max(delay, error.retry_after)
    return delay


def _should_retry(attempt: int, error: LLMError) -> bool:
    if not error.transient or attempt >= MAX_RETRIES:
        return False
    # An upstream asking us to wait longer than we would keep a person waiting: give up now.
    return error.retry_after is None or error.retry_after <= RETRY_MAX_DELAY


def _params(cfg: ModelConfig, messages: list[dict], max_tokens: int | None, temperature: float | None) -> dict[str, Any]:
    if not messages:
        raise ValueError("messages must not be empty")
    return {
        "model": cfg.model,
        "messages": messages,
        "max_tokens": min(max_tokens or cfg.max_tokens, cfg.max_tokens),
        "temperature": cfg.temperature if temperature is None else temperature,
    }


# --- JSON ---------------------------------------------------------------------------------------
_json_support: dict[str, str] = {}  # model name -> the response_format level that worked


def extract_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in text (models wrap JSON in prose or ``` fences); None if none."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, _end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    return None


def _validate(value: dict[str, Any], schema: dict) -> None:
    import jsonschema

    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError as exc:
        raise _error(
            "llm_bad_response", _("The language model's answer did not have the expected fields. Try again."),
            status=502, transient=False, details={"error": exc.message[:300], "path": list(exc.absolute_path)[:10]},
        ) from None


def _response_formats(cfg: ModelConfig, schema: dict) -> list[tuple[str, dict[str, Any] | None]]:
    levels = {
        "json_schema": {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": False}},
        "json_object": {"type": "json_object"},
        "none": None,
    }
    mode = cfg.json_mode if cfg.json_mode != "auto" else _json_support.get(cfg.name, "auto")
    if mode == "auto":
        order = ["json_schema", "json_object", "none"]
    else:
        order = [mode] if mode == "none" else [mode, "none"]
    return [(level, levels[level]) for level in order]


def _schema_instruction(schema: dict) -> dict[str, str]:
    return {
        "role": "system",
        "content": "Answer with one JSON object only, no prose, matching this JSON schema:\n" + json.dumps(schema, ensure_ascii=False),
    }


# --- calls --------------------------------------------------------------------------------------
def complete(
    *,
    model: str | None,
    messages: list[dict],
    max_tokens: int | None = None,
    temperature: float | None = None,
    json_schema: dict | None = None,
) -> str:
    """One non-streaming answer (sync). With json_schema, returns JSON text validated against it.

    JSON is asked for as strongly as the endpoint allows (response_format json_schema, then
    json_object, then a plain instruction) and the first JSON object is extracted from the text.
    Raises LLMError.
    """
    cfg = get_model(model)
    params = _params(cfg, messages, max_tokens, temperature)
    if json_schema is None:
        return _complete_once(cfg, params)
    params["messages"] = [_schema_instruction(json_schema), *messages]
    last_error: LLMError | None = None
    for level, response_format in _response_formats(cfg, json_schema):
        attempt = dict(params)
        if response_format is not None:
            attempt["response_format"] = response_format
        try:
            text = _complete_once(cfg, attempt)
        except LLMError as exc:
            # An endpoint that does not know this response_format answers 400/422: go down a level.
            upstream_status = (exc.details or {}).get("upstream_status") if isinstance(exc.details, dict) else None
            if exc.code == "llm_bad_request" and upstream_status in (400, 422) and response_format is not None:
                last_error = exc
                continue
            raise
        _json_support[cfg.name] = level
        value = extract_json_object(text)
        if value is None:
            raise _error("llm_bad_response", _("The language model did not answer with JSON. Try again."), status=502, transient=False, details={"model": cfg.name})
        _validate(value, json_schema)
        return json.dumps(value, ensure_ascii=False)
    assert last_error is not None
    raise last_error


def _complete_once(cfg: ModelConfig, params: dict[str, Any]) -> str:
    client = _sync_client(cfg)
    attempt = 0
    while True:
        try:
            response = client.chat.completions.create(**params)
            choice = response.choices[0]
            content = choice.message.content
            if content is None:
                raise ValueError("no content in the answer")
            return content
        except Exception as exc:  # translated below; unknown errors re-raise from translate_error
            error = translate_error(exc, cfg)
            if not _should_retry(attempt, error):
                raise error from exc
            delay = _backoff(attempt, error)
            logger.warning("LLM %s: %s, retry %d in %.2fs", cfg.name, error.code, attempt + 1, delay)
            time.sleep(delay)
            attempt += 1


@dataclass
class StreamEvent:
    """One piece of a streamed answer: text (may be empty), then a final event with `done`."""

    text: str = ""
    done: bool = False
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    retries: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def stream_chat(
    *,
    model: str | None,
    messages: list[dict],
    max_tokens: int | None = None,
    temperature: float | None = None,
) -> AsyncIterator[StreamEvent]:
    """Stream an answer token by token. The last event has done=True (with usage if known).

    Closing the generator (the caller was cancelled, the person pressed stop) closes the HTTP
    response, which makes vLLM / llama.cpp abort the generation upstream.
    Transient failures before the first token are retried; after it they raise LLMError.
    """
    cfg = get_model(model)
    params = _params(cfg, messages, max_tokens, temperature)
    client = _async_client(cfg)
    attempt = 0
    while True:
        started = False
        stream = None
        try:
            stream = await client.chat.completions.create(**params, stream=True)
            finish_reason = None
            usage = None
            async for chunk in stream:
                if getattr(chunk, "usage", None):
                    usage = chunk.usage
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                if choice.finish_reason:
                    finish_reason = choice.finish_reason
                text = (choice.delta.content if choice.delta else None) or ""
                if text:
                    started = True
                    yield StreamEvent(text=text, retries=attempt)
            yield StreamEvent(
                done=True,
                finish_reason=finish_reason,
                prompt_tokens=getattr(usage, "prompt_tokens", None),
                completion_tokens=getattr(usage, "completion_tokens", None),
                retries=attempt,
            )
            return
        except (GeneratorExit, asyncio.CancelledError):
            raise
        except Exception as exc:  # translated below; unknown errors re-raise from translate_error
            error = translate_error(exc, cfg)
            if started or not _should_retry(attempt, error):
                raise error from exc
            delay = _backoff(attempt, error)
            logger.warning("LLM %s: %s, retry %d in %.2fs", cfg.name, error.code, attempt + 1, delay)
            await asyncio.sleep(delay)
            attempt += 1
        finally:
            if stream is not None:
                await stream.close()


def ping(cfg: ModelConfig, timeout: float = 2.0) -> str:
    """Health check: GET {base_url}/models. Returns a short detail or raises."""
    client = openai.OpenAI(base_url=cfg.base_url, api_key=cfg.api_key, timeout=timeout, max_retries=0)
    try:
        page = client.models.list()
        ids = [m.id for m in page.data][:5]
    finally:
        client.close()
    return f"{cfg.name}: {', '.join(ids) or 'no models listed'}"
