"""The tracker settings of an actor: schema, defaults and server-side validation.

Stored in Actor.settings as:
    {
      "faceTracking": true, "bodyTracking": false, "handTracking": false,
      "mirror": false, "bodySensitivity": 1.0, "handSensitivity": 1.0,
      "sensitivity": {"gaze": 1.0, "eyebrows": 1.0, "mouth": 1.0},   # each 0..SENSITIVITY_MAX (2.0)
      "curves": {"jawOpen": {"inMin": 0, "inMax": 0.5, "outMin": 0, "outMax": 1, "gamma": 1}},
      "shortcuts": [{"key": "Ctrl+1", "label": "Smile", "weights": {"happy": 1.0}}]
    }
Sensitivity scales a region's tracked scores before its curves: 0 freezes the region at rest, 1
passes the face through, above 1 boosts a subtle face (the boosted score is clamped to 1); the
browser applies it (frontend/src/tracking/actor_settings.js, same maximum).
A curve maps the input range linearly (then shaped by gamma) onto the output range and clamps:
with inMax 0.5 and outMax 1, an input of 0.4 already gives 0.8. Curve keys are ARKit names.
Shortcut weights name expressions the avatar has (presets or its custom expressions).
Body and hand tracking (issue 18) run in the browser when their flags are on
(frontend/src/tracking/body_tracker.js): `mirror` makes the avatar move like a mirror image,
`bodySensitivity` scales the torso's lean and `handSensitivity` the finger curls (0..2, like
the face regions).
"""
from __future__ import annotations

import math
import re
from typing import Any

from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, ValidationError, validators

from avatarforge.errors import AppError

from .formats.vrm_meta import ARKIT_52, PRESETS

MAX_SHORTCUTS = 24
MAX_WEIGHTS_PER_SHORTCUT = 32
KEY_PATTERN = re.compile(r"^(?:(?:Ctrl|Alt|Shift|Meta)\+){0,3}(?:[A-Z0-9]|F(?:[1-9]|1[0-2])|Numpad[0-9])$")

SENSITIVITY_KEYS = ("gaze", "eyebrows", "mouth")
SENSITIVITY_MAX = 2.0  # boost up to twice the tracked movement
CURVE_KEYS = ("inMin", "inMax", "outMin", "outMax", "gamma")


def default_settings() -> dict[str, Any]:
    return {
        "faceTracking": True,
        "bodyTracking": False,
        "handTracking": False,
        "mirror": False,
        "bodySensitivity": 1.0,
        "handSensitivity": 1.0,
        "sensitivity": dict.fromkeys(SENSITIVITY_KEYS, 1.0),
        "curves": {},
        "shortcuts": [],
    }


def apply_curve(value: float, curve: dict[str, float]) -> float:
    """The curve's output for a raw blendshape score (the same formula runs in the browser)."""
    span = curve["inMax"] - curve["inMin"]
    t = 0.0 if span <= 0 else (value - curve["inMin"]) / span
    t = min(1.0, max(0.0, t)) ** curve.get("gamma", 1.0)
    return curve["outMin"] + (curve["outMax"] - curve["outMin"]) * t


class SettingsInvalid(AppError):
    status = 400
    code = "actor_settings_invalid"


def normalize_key(key: str) -> str:
    """Canonical shortcut key ("ctrl+shift+a" -> "Ctrl+Shift+A")."""
    parts = [p.strip() for p in str(key).split("+")]
    mods = [p.capitalize() for p in parts[:-1]]
    order = ["Ctrl", "Alt", "Shift", "Meta"]
    mods = sorted(dict.fromkeys(mods), key=lambda m: order.index(m) if m in order else 9)
    last = parts[-1] if parts else ""
    last = last.upper() if len(last) == 1 else (last[:1].upper() + last[1:])
    return "+".join([*mods, last])


# JSON Schema of the settings: published in the OpenAPI document AND what validate_settings
# checks, so the documented shape and the enforced one cannot drift apart.
_UNIT = {"type": "number", "minimum": 0, "maximum": 1}
_CURVE = {
    "type": "object",
    "required": ["inMin", "inMax", "outMin", "outMax"],
    "additionalProperties": False,
    "properties": {
        "inMin": _UNIT,
        "inMax": _UNIT,
        "outMin": _UNIT,
        "outMax": _UNIT,
        "gamma": {"type": "number", "minimum": 0.1, "maximum": 10, "default": 1},
    },
}
SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "faceTracking": {"type": "boolean", "default": True},
        "bodyTracking": {"type": "boolean", "default": False, "description": "Track shoulders and arms."},
        "handTracking": {"type": "boolean", "default": False, "description": "Track hands and fingers."},
        "mirror": {"type": "boolean", "default": False,
                   "description": "Body and hands move like a mirror image (raise your right hand, the avatar raises its left)."},
        "bodySensitivity": {"type": "number", "minimum": 0, "maximum": SENSITIVITY_MAX, "default": 1,
                            "description": "Scales the torso's lean; 0 keeps it upright."},
        "handSensitivity": {"type": "number", "minimum": 0, "maximum": SENSITIVITY_MAX, "default": 1,
                            "description": "Scales the finger curls; 0 keeps the hands open."},
        "sensitivity": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                k: {"type": "number", "minimum": 0, "maximum": SENSITIVITY_MAX, "default": 1,
                    "description": "0 freezes the region, 1 passes it through, above 1 boosts it."}
                for k in SENSITIVITY_KEYS
            },
        },
        # Curve keys are ARKit names: one property each (not `propertyNames`, which OpenAPI 3.0 lacks).
        "curves": {
            "type": "object",
            "description": "Keyed by ARKit blendshape name.",
            "additionalProperties": False,
            "properties": dict.fromkeys(ARKIT_52, _CURVE),
        },
        "shortcuts": {
            "type": "array",
            "maxItems": MAX_SHORTCUTS,
            "items": {
                "type": "object",
                "required": ["key", "weights"],
                "additionalProperties": False,
                "properties": {
                    "key": {"type": "string", "example": "Ctrl+1"},
                    "label": {"type": "string", "maxLength": 40},
                    "weights": {
                        "type": "object",
                        "minProperties": 1,
                        "maxProperties": MAX_WEIGHTS_PER_SHORTCUT,
                        "additionalProperties": _UNIT,
                    },
                },
            },
        },
    },
}


def _finite_number(checker: Any, instance: Any) -> bool:
    # JSON Schema's "number" admits NaN and infinities (every comparison with NaN is false, so
    # "minimum"/"maximum" would let it through); settings need real numbers. Booleans are
    # already excluded by the draft's own type checker.
    return Draft202012Validator.TYPE_CHECKER.is_type(instance, "number") and math.isfinite(instance)


_Validator = validators.extend(
    Draft202012Validator, type_checker=Draft202012Validator.TYPE_CHECKER.redefine("number", _finite_number)
)
_VALIDATOR = _Validator(SETTINGS_SCHEMA)


def _schema_errors(error: ValidationError) -> list[tuple[str, str]]:
    """(field path, message a person can act on) for one schema violation."""
    path = [str(p)[:64] for p in error.absolute_path]
    where = ".".join(path)
    kind = error.validator
    if kind == "additionalProperties" and error.validator_value is False:
        if len(path) == 2 and path[0] == "curves":  # a curve: what it needs, as for missing keys
            return [(where, _("Needs inMin, inMax, outMin, outMax and optionally gamma."))]
        if len(path) == 2 and path[0] == "shortcuts":
            return [(where, _("Needs key, label and weights."))]
        known = set(error.schema.get("properties", {}))
        message = _("Not one of the 52 ARKit blendshape names.") if path == ["curves"] else _("Unknown setting.")
        return [(".".join([*path, str(k)[:64]]), message) for k in error.instance if k not in known]
    return [_schema_error(error, path, where, kind)]


def _schema_error(error: ValidationError, path: list[str], where: str, kind: str) -> tuple[str, str]:
    if kind == "required":
        if path and path[0] == "curves":
            return where, _("Needs inMin, inMax, outMin, outMax and optionally gamma.")
        missing = "key" if "key" not in error.instance else "weights"
        return f"{where}.{missing}", _SHORTCUT_FIELD_MESSAGES[missing]()
    if kind == "maxProperties":  # only a shortcut's weights have a maximum count
        return where, _("Too many expressions.")
    if len(path) == 3 and path[0] == "shortcuts" and path[2] in _SHORTCUT_FIELD_MESSAGES:
        return where, _SHORTCUT_FIELD_MESSAGES[path[2]]()
    if kind == "type":
        expected = error.validator_value
        if expected == "number":
            return where, _("Must be a number.")
        if expected == "boolean":
            return where, _("Must be true or false.")
        if expected == "array":
            return where, _("Must be a list.")
        if expected == "object" and len(path) == 2:
            return where, (_("Needs inMin, inMax, outMin, outMax and optionally gamma.") if path[0] == "curves"
                           else _("Needs key, label and weights."))
        return where, _("Must be an object.")
    if kind in ("minimum", "maximum"):
        return where, _("Must be between %(lo)s and %(hi)s.") % {
            "lo": float(error.schema["minimum"]), "hi": float(error.schema["maximum"])}
    if kind == "maxItems":
        return where, _("At most %(n)d shortcuts.") % {"n": MAX_SHORTCUTS}
    return where, _("Invalid value.")


# Shortcut fields whose every schema violation reads the same to a person.
_SHORTCUT_FIELD_MESSAGES = {
    "key": lambda: _("Use a letter, digit, F1–F12 or Numpad digit, optionally with Ctrl, Alt, Shift."),
    "label": lambda: _("At most 40 characters."),
    "weights": lambda: _("Give at least one expression weight."),
}


def _cross_field_errors(data: dict[str, Any], expressions: list[str] | None, errors: dict[str, str]) -> None:
    """The rules a schema cannot say: a curve's input range, shortcut keys after normalization
    (unique, a key a browser can report) and weights naming expressions this avatar has."""
    curves = data.get("curves")
    if isinstance(curves, dict):
        for name, curve in curves.items():
            path = f"curves.{str(name)[:64]}"
            if path in errors or not isinstance(curve, dict):
                continue
            lo, hi = curve.get("inMin"), curve.get("inMax")
            numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lo, hi))
            if numbers and lo >= hi:
                errors.setdefault(f"{path}.inMax", _("Must be greater than inMin."))
    shortcuts = data.get("shortcuts")
    if not isinstance(shortcuts, list) or len(shortcuts) > MAX_SHORTCUTS:
        return
    vocabulary = set(PRESETS) | set(expressions or [])
    seen: set[str] = set()
    for i, item in enumerate(shortcuts):
        if not isinstance(item, dict):
            continue
        path = f"shortcuts.{i}"
        raw_key = item.get("key")
        key = normalize_key(raw_key) if isinstance(raw_key, str) else ""
        if not KEY_PATTERN.match(key):
            errors.setdefault(f"{path}.key", _SHORTCUT_FIELD_MESSAGES["key"]())
        elif key in seen:
            errors.setdefault(f"{path}.key", _("This key is already used by another shortcut."))
        seen.add(key)
        weights = item.get("weights")
        if isinstance(weights, dict) and len(weights) <= MAX_WEIGHTS_PER_SHORTCUT:
            for name in weights:
                if name not in vocabulary:
                    errors[f"{path}.weights.{str(name)[:64]}"] = _("The avatar has no expression with this name.")


def validate_settings(data: Any, *, expressions: list[str] | None = None) -> dict[str, Any]:
    """A complete, normalized settings dict, or SettingsInvalid with {field path: message}.

    `expressions`: expression names the avatar has; shortcut weights must use them (or presets
    when None). Missing top-level fields take their defaults, unknown fields are refused.
    The shape is checked by SETTINGS_SCHEMA; only cross-field rules are written out here.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SettingsInvalid(_("Settings must be an object."), details={"settings": _("Must be an object.")})
    errors: dict[str, str] = {}
    for error in _VALIDATOR.iter_errors(data):
        for path, message in _schema_errors(error):
            errors.setdefault(path, message)
    _cross_field_errors(data, expressions, errors)
    if errors:
        raise SettingsInvalid(_("Some actor settings are invalid."), details=errors)

    out = default_settings()
    for flag in ("faceTracking", "bodyTracking", "handTracking", "mirror"):
        out[flag] = data.get(flag, out[flag])
    for key in ("bodySensitivity", "handSensitivity"):
        out[key] = float(data.get(key, out[key]))
    out["sensitivity"].update({k: float(v) for k, v in data.get("sensitivity", {}).items()})
    out["curves"] = {
        name: {**{k: float(curve[k]) for k in ("inMin", "inMax", "outMin", "outMax")},
               "gamma": float(curve.get("gamma", 1.0))}
        for name, curve in data.get("curves", {}).items()
    }
    out["shortcuts"] = [
        {"key": normalize_key(item["key"]), "label": item.get("label", "").strip(),
         "weights": {name: float(w) for name, w in item["weights"].items()}}
        for item in data.get("shortcuts", [])
    ]
    return out
