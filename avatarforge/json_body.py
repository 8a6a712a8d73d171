"""The one JSON decoder for bodies from clients: REST requests (JsonBodyParser, DRF's default
parser) and WebSocket text frames (decode_json_text, used by every consumer's receive).

Hostile input is bounded before it can hurt: a body over the byte limit is refused without
being parsed, and nesting deeper than JSON_MAX_DEPTH is refused as `json_too_deep` instead of
surfacing as a RecursionError (a 500, or a dead socket) from the stdlib's recursive scanner.
Every refusal is an AppError, so REST answers 4xx and sockets send an error frame, both in the
error family.
"""
from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.parsers import BaseParser

from .errors import AppError, PayloadTooLarge

# Deep enough for every payload we accept (character extensions allow 32 levels inside a body);
# shallow enough that the stdlib scanner never nears the interpreter's recursion limit.
DEFAULT_MAX_DEPTH = 64


class InvalidJson(AppError):
    code = "invalid_json"
    default_message = "The body is not valid JSON."


class JsonTooDeep(AppError):
    code = "json_too_deep"
    default_message = "The JSON is nested too deeply."


def max_depth() -> int:
    return int(getattr(settings, "JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH))


def max_body_bytes() -> int:
    """REST JSON bodies share Django's ceiling for non-file request data."""
    return int(getattr(settings, "JSON_MAX_BODY_BYTES", settings.DATA_UPLOAD_MAX_MEMORY_SIZE))


def _too_deep(limit: int) -> JsonTooDeep:
    return JsonTooDeep(
        _("The JSON is nested too deeply (at most %(n)d levels).") % {"n": limit}, details={"max_depth": limit}
    )


def json_depth(value: Any) -> int:
    """Nesting depth of a decoded JSON value (a scalar is 0, `[]` is 1), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth + 1)
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            deepest = max(deepest, depth + 1)
            stack.extend((v, depth + 1) for v in item if isinstance(v, (dict, list)))
    return deepest


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON (RFC 8259) and break PostgreSQL jsonb and JS clients.
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str | bytes, *, depth_limit: int | None = None) -> Any:
    """Decode JSON or raise InvalidJson / JsonTooDeep. The caller bounds the size first."""
    limit = max_depth() if depth_limit is None else depth_limit
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidJson(_("The body is not UTF-8 text.")) from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        # Deeper than the interpreter allows is certainly deeper than the limit.
        raise _too_deep(limit) from None
    except ValueError as exc:
        raise InvalidJson(_("The body is not valid JSON."), details={"error": str(exc)[:200]}) from None
    if json_depth(value) > limit:
        raise _too_deep(limit)
    return value


def decode_json_text(text: str, *, max_chars: int) -> Any:
    """A WebSocket text frame: size first (refused unparsed), then loads()."""
    if len(text) > max_chars:
        raise PayloadTooLarge(
            _("The message is too large (at most %(n)d characters).") % {"n": max_chars},
            code="message_too_large",
            details={"max_chars": max_chars},
        )
    return loads(text)


class JsonBodyParser(BaseParser):
    """DRF's default JSON parser (settings.REST_FRAMEWORK): bounded size and depth."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        if stream is None:
            return {}
        limit = max_body_bytes()
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise PayloadTooLarge(
                _("The JSON body is too large (at most %(n)d bytes).") % {"n": limit}, details={"max_bytes": limit}
            )
        return loads(raw)
