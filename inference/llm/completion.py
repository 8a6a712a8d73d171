"""One whole answer (sync), optionally JSON that matches a schema.

With `on_text`, the answer is streamed and each piece is handed to the caller as it arrives (a
long answer can show progress, and the caller can stop it by raising: leaving the stream closes
the upstream request, so the model server stops generating).

JSON is asked for as strongly as the endpoint allows (response_format json_schema, then
json_object, then a plain instruction), the level that worked is remembered per model, and the
first JSON object is extracted from the text (models wrap JSON in prose or ``` fences).
"""
from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from .client import sync_client
from .config import ModelConfig, get_model
from .errors import LLMError, bad_response
from .retry import attempts

_json_support: dict[str, str] = {}  # model name -> the response_format level that worked


def request_params(cfg: ModelConfig, messages: list[dict], max_tokens: int | None, temperature: float | None) -> dict[str, Any]:
    """The chat.completions parameters both call kinds send (max_tokens capped by the model), with
    the model's sampling settings: penalties when configured, server-specific fields in extra_body."""
    if not messages:
        raise ValueError("messages must not be empty")
    params: dict[str, Any] = {
        "model": cfg.model,
        "messages": messages,
        "max_tokens": min(max_tokens or cfg.max_tokens, cfg.max_tokens),
        "temperature": cfg.temperature if temperature is None else temperature,
    }
    if cfg.frequency_penalty is not None:
        params["frequency_penalty"] = cfg.frequency_penalty
    if cfg.presence_penalty is not None:
        params["presence_penalty"] = cfg.presence_penalty
    if cfg.extra_body:
        params["extra_body"] = dict(cfg.extra_body)
    return params


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
        raise bad_response(
            _("The language model's answer did not have the expected fields. Try again."),
            {"error": exc.message[:300], "path": list(exc.absolute_path)[:10]},
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


def complete(
    *,
    model: str | None,
    messages: list[dict],
    max_tokens: int | None = None,
    temperature: float | None = None,
    json_schema: dict | None = None,
    timeout: float | None = None,
    on_text: Callable[[str], None] | None = None,
) -> str:
    """One answer; with json_schema, JSON text validated against it. Raises LLMError.

    `timeout`: seconds this answer may take, for a long answer on a slow model (default: the
    model's timeout, which is sized for chat)."""
    cfg = get_model(model)
    if timeout is not None:
        cfg = dataclasses.replace(cfg, timeout=float(timeout))
    params = request_params(cfg, messages, max_tokens, temperature)
    if json_schema is None:
        return _complete_once(cfg, params, on_text)
    params["messages"] = [_schema_instruction(json_schema), *messages]
    last_error: LLMError | None = None
    for level, response_format in _response_formats(cfg, json_schema):
        attempt = dict(params)
        if response_format is not None:
            attempt["response_format"] = response_format
        try:
            text = _complete_once(cfg, attempt, on_text)
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
            raise bad_response(_("The language model did not answer with JSON. Try again."), {"model": cfg.name})
        _validate(value, json_schema)
        return json.dumps(value, ensure_ascii=False)
    assert last_error is not None
    raise last_error


def _complete_once(cfg: ModelConfig, params: dict[str, Any], on_text: Callable[[str], None] | None = None) -> str:
    client = sync_client(cfg)
    for attempt in attempts(cfg):
        with attempt:
            if on_text is not None:
                return _streamed(client, params, on_text, attempt)
            content = client.chat.completions.create(**params).choices[0].message.content
            if content is None:
                raise ValueError("no content in the answer")
            return content
        time.sleep(attempt.delay)
    raise AssertionError("unreachable: attempts() never ends by itself")


def _streamed(client, params: dict[str, Any], on_text: Callable[[str], None], attempt) -> str:
    parts: list[str] = []
    with client.chat.completions.create(**params, stream=True) as stream:
        for chunk in stream:
            piece = chunk.choices[0].delta.content if chunk.choices else None
            if piece:
                attempt.final()  # the caller has seen text: a retry would show it twice
                parts.append(piece)
                on_text(piece)  # may raise to stop; the `with` closes the upstream request
    if not parts:
        raise ValueError("no content in the answer")
    return "".join(parts)
