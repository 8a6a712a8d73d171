"""The one texture of the avatar: the stylized face on the left half, flat colour swatches on the right.

One material and one texture keep the file small and the draw calls few. Every body part has a
constant UV at the centre of its swatch (swatches are 128 px, so mipmaps stay clean).
"""
from __future__ import annotations

import numpy as np

FACE_SIZE = 512
ATLAS_W, ATLAS_H = 2 * FACE_SIZE, FACE_SIZE
CELL = FACE_SIZE // 4

SWATCHES: tuple[str, ...] = (
    "skin", "hair", "top", "bottom",
    "shoes", "lash", "mouth", "brow",
    "white", "blush", "skin_shadow", "top_dark",
)


def swatch_uv(name: str) -> tuple[float, float]:
    index = SWATCHES.index(name)
    col, row = index % 4, index // 4
    u = (FACE_SIZE + (col + 0.5) * CELL) / ATLAS_W
    v = ((row + 0.5) * CELL) / ATLAS_H
    return u, v


IRIS_CELL = (0, 3)  # column, row of the drawn iris in the swatch grid (the fourth row is free)


def iris_uv():
    """Two functions taking iris-disc coordinates (-1..1, +v down) to atlas u and v."""
    col, row = IRIS_CELL
    cu = (FACE_SIZE + (col + 0.5) * CELL) / ATLAS_W
    cv = ((row + 0.5) * CELL) / ATLAS_H
    half_u, half_v = 0.46 * CELL / ATLAS_W, 0.46 * CELL / ATLAS_H
    return (lambda x: cu + x * half_u), (lambda y: cv + y * half_v)


def face_uv(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map face-image coordinates (0..1 across the face crop) into the atlas."""
    return np.clip(u, 0.0, 1.0) * (FACE_SIZE / ATLAS_W), np.clip(v, 0.0, 1.0)


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def shade(rgb: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(int(max(0, min(255, round(c * factor)))) for c in rgb)  # type: ignore[return-value]


def build_atlas(face_rgb: np.ndarray, palette: dict[str, str], iris: np.ndarray | None = None) -> np.ndarray:
    """face_rgb: FACE_SIZE square RGB uint8. palette: hex colours for skin, hair, top, bottom, shoes."""
    if face_rgb.shape != (FACE_SIZE, FACE_SIZE, 3):
        raise ValueError(f"face texture must be {FACE_SIZE}x{FACE_SIZE} RGB")
    atlas = np.zeros((ATLAS_H, ATLAS_W, 3), dtype=np.uint8)
    atlas[:, :FACE_SIZE] = face_rgb
    skin = hex_to_rgb(palette["skin"])
    hair = hex_to_rgb(palette["hair"])
    top = hex_to_rgb(palette["top"])
    colours = {
        "skin": skin,
        "hair": hair,
        "top": top,
        "bottom": hex_to_rgb(palette["bottom"]),
        "shoes": hex_to_rgb(palette.get("shoes", "#3a3440")),
        "lash": shade(hair, 0.35) if sum(hair) > 150 else (30, 24, 28),
        "mouth": (150, 52, 62),
        "brow": shade(hair, 0.6),
        "white": (246, 244, 240),
        "blush": (236, 150, 150),
        "skin_shadow": shade(skin, 0.85),
        "top_dark": shade(top, 0.7),
    }
    for index, name in enumerate(SWATCHES):
        col, row = index % 4, index // 4
        x0, y0 = FACE_SIZE + col * CELL, row * CELL
        atlas[y0 : y0 + CELL, x0 : x0 + CELL] = colours[name]
    if iris is not None:
        col, row = IRIS_CELL
        atlas[row * CELL : (row + 1) * CELL, FACE_SIZE + col * CELL : FACE_SIZE + (col + 1) * CELL] = iris
    return atlas
