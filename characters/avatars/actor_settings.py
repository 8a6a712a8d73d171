"""The tracker settings of an actor: schema, defaults and server-side validation.

Stored in Actor.settings as:
    {
      "faceTracking": true, "bodyTracking": false, "handTracking": false,
      "sensitivity": {"gaze": 1.0, "eyebrows": 1.0, "mouth": 1.0},          # each 0..1
      "curves": {"jawOpen": {"inMin": 0, "inMax": 0.5, "outMin": 0, "outMax": 1, "gamma": 1}},
      "shortcuts": [{"key": "Ctrl+1", "label": "Smile", "weights": {"happy": 1.0}}]
    }
A curve maps the input range linearly (then shaped by gamma) onto the output range and clamps:
with inMax 0.5 and outMax 1, an input of 0.4 already gives 0.8. Curve keys are ARKit names.
Shortcut weights name expressions the avatar has (presets or its custom expressions).
Body and hand tracking flags are stored for later features; nothing reads them yet.
"""
from __future__ import annotations

import math
import re
from typing import Any

from django.utils.translation import gettext as _

from avatarforge.errors import AppError

from .formats.vrm_meta import ARKIT_52, PRESETS

MAX_SHORTCUTS = 24
MAX_WEIGHTS_PER_SHORTCUT = 32
KEY_PATTERN = re.compile(r"^(?:(?:Ctrl|Alt|Shift|Meta)\+){0,3}(?:[A-Z0-9]|F(?:[1-9]|1[0-2])|Numpad[0-9])$")

SENSITIVITY_KEYS = ("gaze", "eyebrows", "mouth")
CURVE_KEYS = ("inMin", "inMax", "outMin", "outMax", "gamma")


def default_settings() -> dict[str, Any]:
    return {
        "faceTracking": True,
        "bodyTracking": False,
        "handTracking": False,
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


def _number(value: Any, path: str, errors: dict[str, str], lo: float = 0.0, hi: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        errors[path] = _("Must be a number.")
        return lo
    if not lo <= value <= hi:
        errors[path] = _("Must be between %(lo)s and %(hi)s.") % {"lo": lo, "hi": hi}
        return lo
    return float(value)


def normalize_key(key: str) -> str:
    """Canonical shortcut key ("ctrl+shift+a" -> "Ctrl+Shift+A")."""
    parts = [p.strip() for p in str(key).split("+")]
    mods = [p.capitalize() for p in parts[:-1]]
    order = ["Ctrl", "Alt", "Shift", "Meta"]
    mods = sorted(dict.fromkeys(mods), key=lambda m: order.index(m) if m in order else 9)
    last = parts[-1] if parts else ""
    last = last.upper() if len(last) == 1 else (last[:1].upper() + last[1:])
    return "+".join([*mods, last])


def validate_settings(data: Any, *, expressions: list[str] | None = None) -> dict[str, Any]:
    """A complete, normalized settings dict, or SettingsInvalid with {field path: message}.

    `expressions`: expression names the avatar has; shortcut weights must use them (or presets
    when None). Missing top-level fields take their defaults, unknown fields are refused.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SettingsInvalid(_("Settings must be an object."), details={"settings": _("Must be an object.")})
    errors: dict[str, str] = {}
    out = default_settings()
    allowed = {"faceTracking", "bodyTracking", "handTracking", "sensitivity", "curves", "shortcuts"}
    for key in data:
        if key not in allowed:
            errors[str(key)[:64]] = _("Unknown setting.")

    for flag in ("faceTracking", "bodyTracking", "handTracking"):
        if flag in data:
            if not isinstance(data[flag], bool):
                errors[flag] = _("Must be true or false.")
            else:
                out[flag] = data[flag]

    sens = data.get("sensitivity", {})
    if not isinstance(sens, dict):
        errors["sensitivity"] = _("Must be an object.")
    else:
        for key, value in sens.items():
            if key not in SENSITIVITY_KEYS:
                errors[f"sensitivity.{str(key)[:32]}"] = _("Unknown setting.")
            else:
                out["sensitivity"][key] = _number(value, f"sensitivity.{key}", errors)

    curves = data.get("curves", {})
    if not isinstance(curves, dict):
        errors["curves"] = _("Must be an object.")
    else:
        for name, curve in curves.items():
            path = f"curves.{str(name)[:64]}"
            if name not in ARKIT_52:
                errors[path] = _("Not one of the 52 ARKit blendshape names.")
                continue
            if not isinstance(curve, dict) or set(curve) - set(CURVE_KEYS) or not {"inMin", "inMax", "outMin", "outMax"} <= set(curve):
                errors[path] = _("Needs inMin, inMax, outMin, outMax and optionally gamma.")
                continue
            clean = {k: _number(curve[k], f"{path}.{k}", errors) for k in ("inMin", "inMax", "outMin", "outMax")}
            clean["gamma"] = _number(curve.get("gamma", 1.0), f"{path}.gamma", errors, 0.1, 10.0)
            if clean["inMin"] >= clean["inMax"] and f"{path}.inMax" not in errors:
                errors[f"{path}.inMax"] = _("Must be greater than inMin.")
            out["curves"][name] = clean

    shortcuts = data.get("shortcuts", [])
    vocabulary = set(PRESETS) | set(expressions or [])
    if not isinstance(shortcuts, list):
        errors["shortcuts"] = _("Must be a list.")
    elif len(shortcuts) > MAX_SHORTCUTS:
        errors["shortcuts"] = _("At most %(n)d shortcuts.") % {"n": MAX_SHORTCUTS}
    else:
        seen: set[str] = set()
        for i, item in enumerate(shortcuts):
            path = f"shortcuts.{i}"
            if not isinstance(item, dict) or set(item) - {"key", "label", "weights"}:
                errors[path] = _("Needs key, label and weights.")
                continue
            key = normalize_key(item.get("key", "")) if isinstance(item.get("key"), str) else ""
            if not KEY_PATTERN.match(key):
                errors[f"{path}.key"] = _("Use a letter, digit, F1–F12 or Numpad digit, optionally with Ctrl, Alt, Shift.")
            elif key in seen:
                errors[f"{path}.key"] = _("This key is already used by another shortcut.")
            seen.add(key)
            label = item.get("label", "")
            if not isinstance(label, str) or len(label) > 40:
                errors[f"{path}.label"] = _("At most 40 characters.")
                label = ""
            weights = item.get("weights")
            clean_weights: dict[str, float] = {}
            if not isinstance(weights, dict) or not weights:
                errors[f"{path}.weights"] = _("Give at least one expression weight.")
            elif len(weights) > MAX_WEIGHTS_PER_SHORTCUT:
                errors[f"{path}.weights"] = _("Too many expressions.")
            else:
                for name, weight in weights.items():
                    if name not in vocabulary:
                        errors[f"{path}.weights.{str(name)[:64]}"] = _("The avatar has no expression with this name.")
                        continue
                    clean_weights[name] = _number(weight, f"{path}.weights.{name}", errors)
            out["shortcuts"].append({"key": key, "label": label.strip(), "weights": clean_weights})

    if errors:
        raise SettingsInvalid(_("Some actor settings are invalid."), details=errors)
    return out


# JSON Schema of the settings, published in the OpenAPI document.
SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "faceTracking": {"type": "boolean", "default": True},
        "bodyTracking": {"type": "boolean", "default": False, "description": "Stored for later; not used yet."},
        "handTracking": {"type": "boolean", "default": False, "description": "Stored for later; not used yet."},
        "sensitivity": {
            "type": "object",
            "additionalProperties": False,
            "properties": {k: {"type": "number", "minimum": 0, "maximum": 1, "default": 1} for k in SENSITIVITY_KEYS},
        },
        "curves": {
            "type": "object",
            "description": "Keyed by ARKit blendshape name: " + ", ".join(ARKIT_52) + ".",
            "additionalProperties": {
                "type": "object",
                "required": ["inMin", "inMax", "outMin", "outMax"],
                "properties": {
                    "inMin": {"type": "number", "minimum": 0, "maximum": 1},
                    "inMax": {"type": "number", "minimum": 0, "maximum": 1},
                    "outMin": {"type": "number", "minimum": 0, "maximum": 1},
                    "outMax": {"type": "number", "minimum": 0, "maximum": 1},
                    "gamma": {"type": "number", "minimum": 0.1, "maximum": 10, "default": 1},
                },
            },
        },
        "shortcuts": {
            "type": "array",
            "maxItems": MAX_SHORTCUTS,
            "items": {
                "type": "object",
                "required": ["key", "weights"],
                "properties": {
                    "key": {"type": "string", "example": "Ctrl+1"},
                    "label": {"type": "string", "maxLength": 40},
                    "weights": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1}},
                },
            },
        },
    },
}
