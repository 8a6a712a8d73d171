"""The avatar's editable parameters: one source of truth for the builder, the API and the creator.

`from_reading` turns the photo reading (generation.reading.estimates) into parameters; the user's
edits replace fields through `clean`, which validates every field (AppError family on bad input).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .geometry import OUTFITS
from .head import FaceLandmarks

HAIR_STYLES = ("short", "bob", "long", "ponytail")
EYE_SHAPES = ("round", "almond", "narrow")
BUILDS = ("slim", "regular", "sturdy")
LENGTH_TO_STYLE = {"short": "short", "medium": "bob", "long": "long"}
_HEX = re.compile(r"^#[0-9a-f]{6}$")
COLOUR_FIELDS = ("skin", "hair_color", "eye_color", "top", "bottom", "shoes")


@dataclass(frozen=True)
class AvatarParams:
    hair_style: str = "bob"
    hair_color: str = "#4a3328"
    skin: str = "#f1c7a5"
    eye_color: str = "#6b4a3a"
    eye_shape: str = "round"
    top: str = "#e0684a"
    bottom: str = "#34405e"
    shoes: str = "#3a3440"
    glasses: bool = False
    fringe: bool = True
    heads: float = 2.5
    build: str = "regular"
    outfit: str = "casual"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ParamsError(ValueError):
    """A field failed validation: `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def clean(base: AvatarParams, changes: dict[str, Any]) -> AvatarParams:
    """`base` with the fields in `changes` replaced, every changed field validated."""
    known = {f.name for f in fields(AvatarParams)}
    out: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in known:
            raise ParamsError(name, f"unknown parameter {name!r}")
        if name in COLOUR_FIELDS:
            if not isinstance(value, str) or not _HEX.match(value.lower()):
                raise ParamsError(name, "a colour is #rrggbb")
            value = value.lower()
        elif name in ("glasses", "fringe"):
            if not isinstance(value, bool):
                raise ParamsError(name, "true or false")
        elif name == "heads":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 2.0 <= float(value) <= 3.5:
                raise ParamsError(name, "a number from 2.0 to 3.5")
            value = float(value)
        else:
            allowed = {"hair_style": HAIR_STYLES, "eye_shape": EYE_SHAPES, "build": BUILDS, "outfit": OUTFITS}[name]
            if value not in allowed:
                raise ParamsError(name, f"one of {', '.join(allowed)}")
        out[name] = value
    return replace(base, **out)


def from_reading(reading: dict[str, dict], palette: dict[str, str], *, heads: float = 2.5, build: str = "regular") -> AvatarParams:
    """Parameters from what the photo said (defaults where it was unsure) and the stage palette."""

    def value(name: str, default: Any) -> Any:
        entry = reading.get(name) or {}
        return entry.get("value", default)

    return AvatarParams(
        hair_style=LENGTH_TO_STYLE.get(value("hair_length", "medium"), "bob"),
        hair_color=palette.get("hair", AvatarParams.hair_color),
        skin=palette.get("skin", AvatarParams.skin),
        eye_color=value("eye_color", AvatarParams.eye_color),
        eye_shape=value("eye_shape", "round") if value("eye_shape", "round") in EYE_SHAPES else "round",
        top=palette.get("top", AvatarParams.top),
        bottom=palette.get("bottom", AvatarParams.bottom),
        shoes=palette.get("shoes", AvatarParams.shoes),
        glasses=bool(value("glasses", False)),
        fringe=bool(value("fringe", True)),
        heads=heads,
        build=build,
    )


EYE_HEIGHT = {"round": 0.125, "almond": 0.1, "narrow": 0.078}


def face_layout(params: AvatarParams) -> FaceLandmarks:
    """Where the drawn features sit on the head (face coordinates): chibi proportions, big eyes set
    low and wide, a small mouth; the eye shape sets the eye's height."""
    eye_h = EYE_HEIGHT[params.eye_shape]
    return FaceLandmarks(
        left_eye=(0.655, 0.585), right_eye=(0.345, 0.585), eye_w=0.125, eye_h=eye_h,
        mouth=(0.5, 0.8), mouth_w=0.13,
    )
