"""A live session's settings: one JSON schema (validated with jsonschema) and its defaults.

The dashboard form, the API and the worker all read settings through `effective_settings`, so a
missing key always means the documented default.
"""
from __future__ import annotations

import copy
from typing import Any

import jsonschema

from avatarforge.errors import AppError

EMOTIONS = ("neutral", "happy", "sad", "angry", "surprised", "relaxed", "excited")

DEFAULTS: dict[str, Any] = {
    "min_length": 2,
    "banned_words": [],
    "ignore_streamer": True,
    "block_links": True,
    "viewer_max_per_minute": 6,
    "repeat_window": 30,
    "queue_size": 50,
    "batch_size": 3,
    "reply_pace_s": 4.0,  # a pause at least this long after each reply before the next one
    "keep_talking": False,  # speak on its own when chat is quiet
    "quiet_s": 45.0,
    "memory_enabled": True,  # per-viewer memory
    "retention_days": 30,
    "history_recent_tokens": 5000,  # seed 003: recent ~5K, summarize at 7K, limit 8K
    "history_summarize_tokens": 7000,
    "history_limit_tokens": 8000,
    "lerp_s": {"default": 0.3},  # per-parameter interpolation time, 0.1-0.5 s
    "emotion_map": {},  # emotion -> {"vts_hotkey": str, "vts_expression": str, "params": {id: value}}
}

_lerp = {"type": "number", "minimum": 0.1, "maximum": 0.5}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "min_length": {"type": "integer", "minimum": 1, "maximum": 100},
        "banned_words": {"type": "array", "maxItems": 200, "items": {"type": "string", "minLength": 1, "maxLength": 50}},
        "ignore_streamer": {"type": "boolean"},
        "block_links": {"type": "boolean"},
        "viewer_max_per_minute": {"type": "integer", "minimum": 1, "maximum": 60},
        "repeat_window": {"type": "integer", "minimum": 0, "maximum": 500},
        "queue_size": {"type": "integer", "minimum": 1, "maximum": 500},
        "batch_size": {"type": "integer", "minimum": 1, "maximum": 10},
        "reply_pace_s": {"type": "number", "minimum": 0, "maximum": 600},
        "keep_talking": {"type": "boolean"},
        "quiet_s": {"type": "number", "minimum": 10, "maximum": 3600},
        "memory_enabled": {"type": "boolean"},
        "retention_days": {"type": "integer", "minimum": 1, "maximum": 365},
        "history_recent_tokens": {"type": "integer", "minimum": 500, "maximum": 100000},
        "history_summarize_tokens": {"type": "integer", "minimum": 500, "maximum": 100000},
        "history_limit_tokens": {"type": "integer", "minimum": 1000, "maximum": 200000},
        "lerp_s": {"type": "object", "maxProperties": 64,
                   "propertyNames": {"pattern": "^[A-Za-z0-9_]{1,32}$"}, "additionalProperties": _lerp},
        "emotion_map": {
            "type": "object",
            "propertyNames": {"enum": list(EMOTIONS)},
            "additionalProperties": {
                "type": "object", "additionalProperties": False,
                "properties": {
                    "vts_hotkey": {"type": "string", "maxLength": 64},
                    "vts_expression": {"type": "string", "maxLength": 128},
                    "params": {"type": "object", "maxProperties": 32,
                               "propertyNames": {"pattern": "^[A-Za-z0-9_]{1,32}$"},
                               "additionalProperties": {"type": "number", "minimum": -1000000, "maximum": 1000000}},
                },
            },
        },
    },
}
_validator = jsonschema.Draft202012Validator(SCHEMA)


def validate_settings(raw: Any) -> dict[str, Any]:
    """Schema errors become one AppError listing every field that is wrong; then cross-field rules."""
    errors = sorted(_validator.iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        details = {"/".join(str(p) for p in e.absolute_path) or "settings": e.message for e in errors}
        raise AppError("Some live settings are not valid.", code="invalid_live_settings", details=details)
    merged = effective_settings(raw)
    if not merged["history_recent_tokens"] <= merged["history_summarize_tokens"] <= merged["history_limit_tokens"]:
        raise AppError("History budgets must grow: recent <= summarize-at <= limit.", code="invalid_live_settings",
                       details={"history_summarize_tokens": "must lie between the recent budget and the limit"})
    return raw


def effective_settings(raw: dict[str, Any] | None) -> dict[str, Any]:
    merged = copy.deepcopy(DEFAULTS)
    for key, value in (raw or {}).items():
        if key in DEFAULTS:
            merged[key] = value
    return merged
