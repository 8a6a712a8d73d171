"""The JSON Schema of the `avatar` signaling message's description (docs/protocol.md, section 2).

The server checks every description against it before relaying, so the other participant's page
only ever receives the documented shape: a string where the page expects a list (`authors`) could
otherwise break its license panel. The limits match what the call page sends
(frontend/src/call/local_avatar.js `licenseFor`) and the 4 096-character cap on the whole message.
"""
from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

HEX64 = "^[0-9a-f]{64}$"


def _text(max_length: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length}


LICENSE_ROW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["key", "state", "label", "value"],
    # code/declared let the receiving page show the row in its own language (optional: older
    # pages send only the sender's words).
    "properties": {"key": _text(40), "state": _text(16), "label": _text(60), "value": _text(120),
                   "code": _text(40), "declared": {"type": "boolean"}},
}

LICENSE_SCHEMA: dict[str, Any] = {
    "type": ["object", "null"],
    "additionalProperties": False,
    "properties": {
        "name": _text(120),
        "authors": {"type": "array", "maxItems": 5, "items": _text(80)},
        "url": _text(300),
        "card": {"type": "array", "maxItems": 12, "items": LICENSE_ROW_SCHEMA},
    },
}

AVATAR_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["renderer"],
    "properties": {
        "renderer": {"enum": ["2d", "vrm"]},
        "fileHash": {"type": ["string", "null"], "pattern": HEX64},
        "id": {"type": ["string", "integer", "null"], "maxLength": 200},
        "name": {"type": ["string", "null"], "maxLength": 200},
        "license": LICENSE_SCHEMA,
    },
    # A VRM is fetched by its hash: without one the other side could never load it.
    "if": {"properties": {"renderer": {"const": "vrm"}}},
    "then": {"required": ["fileHash"], "properties": {"fileHash": {"type": "string"}}},
}

_VALIDATOR = Draft202012Validator(AVATAR_SCHEMA)
Draft202012Validator.check_schema(AVATAR_SCHEMA)


def _problem(error: ValidationError) -> str:
    """A short, stable description of what is wrong (not jsonschema's message, which quotes the
    offending value back: the sender's data has no place in our error text)."""
    kind, expected = error.validator, error.validator_value
    if kind == "type":
        names = expected if isinstance(expected, list) else [expected]
        return "must be " + " or ".join("an array" if n == "array" else "an object" if n == "object" else f"a {n}" if n != "null" else "null" for n in names)
    if kind == "maxLength":
        return f"must be at most {expected} characters"
    if kind == "maxItems":
        return f"must have at most {expected} items"
    if kind == "enum":
        return "must be one of " + ", ".join(str(v) for v in expected)
    if kind == "pattern":
        return "must be 64 lower-case hex characters"
    if kind == "required":
        return "is missing a required field"
    if kind == "additionalProperties":
        return "has a field that is not allowed"
    return "is not valid"


def avatar_errors(avatar: Any) -> dict[str, str]:
    """{} when `avatar` matches the schema, else {"avatar.<path>": problem} for the most relevant
    error (one: the sender fixes it and tries again)."""
    error = best_match(_VALIDATOR.iter_errors(avatar))
    if error is None:
        return {}
    path = ".".join(["avatar", *(str(p) for p in error.absolute_path)])
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in (error.instance or {})]
        if missing:
            return {f"{path}.{missing[0]}": "required"}
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        if extra:
            return {f"{path}.{extra[0][:40]}": "is not allowed"}
    return {path: _problem(error)}
