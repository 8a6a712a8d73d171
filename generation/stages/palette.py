"""Stage 4, palette: sample skin, hair, top and bottom colours from regions relative to the face.

Regions that fall outside the photo use sensible defaults; colours the user chose always win.
Artifacts: data {"palette": {"skin", "hair", "top", "bottom", "shoes"} as #rrggbb,
"sources": {name: "photo" | "default" | "chosen"}}.
"""
from __future__ import annotations

import cv2
import numpy as np

from .base import Stage, StageContext, StageOutput
from .detect import decode

DEFAULTS = {"skin": "#f1c7a5", "hair": "#4a3328", "top": "#e0684a", "bottom": "#34405e", "shoes": "#3a3440"}
PART_NAMES = ("skin", "hair", "top", "bottom", "shoes")


def to_hex(rgb: np.ndarray) -> str:
    r, g, b = (int(max(0, min(255, round(float(c))))) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def _region(rgb: np.ndarray, x0: float, y0: float, x1: float, y1: float, min_inside: float = 0.3) -> np.ndarray | None:
    """Pixels of a box (clipped to the photo), or None when too little of it is inside."""
    height, width = rgb.shape[:2]
    area = max(1.0, (x1 - x0) * (y1 - y0))
    cx0, cy0 = int(max(0, x0)), int(max(0, y0))
    cx1, cy1 = int(min(width, x1)), int(min(height, y1))
    if cx1 <= cx0 or cy1 <= cy0 or (cx1 - cx0) * (cy1 - cy0) < min_inside * area:
        return None
    return rgb[cy0:cy1, cx0:cx1].reshape(-1, 3)


def _dominant(pixels: np.ndarray, k: int = 4) -> np.ndarray:
    """The centre of the k-means cluster that is big, saturated and not dark: a garment's colour,
    not the average of its print nor the shadow under a chin."""
    sample = pixels[:: max(1, len(pixels) // 4000)].astype(np.float32)
    if len(sample) < k * 4:
        return np.median(pixels, axis=0)
    cv2.setRNGSeed(11)
    _c, labels, centres = cv2.kmeans(sample, k, None, (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0), 1, cv2.KMEANS_PP_CENTERS)
    counts = np.bincount(labels.ravel(), minlength=k)
    hsv = cv2.cvtColor(np.clip(centres, 0, 255).reshape(1, -1, 3).astype(np.uint8), cv2.COLOR_RGB2HSV)[0] / 255.0
    score = counts * (0.25 + hsv[:, 1]) * (0.25 + hsv[:, 2])
    return centres[int(score.argmax())]


def sample_palette(rgb: np.ndarray, face: list[int] | None, crop: dict) -> tuple[dict[str, str], dict[str, str]]:
    if face is None:  # no face: pretend the middle of the crop is one
        side = 0.55 * crop["size"]
        face = [crop["cx"] - side / 2, crop["cy"] - side / 2 + 0.05 * side, side, side]
    x, y, w, h = (float(v) for v in face)
    colours, sources = dict(DEFAULTS), dict.fromkeys(DEFAULTS, "default")
    regions = {
        "skin": (x + 0.28 * w, y + 0.48 * h, x + 0.72 * w, y + 0.64 * h, _median_trimmed),
        "hair": (x + 0.2 * w, y - 0.2 * w, x + 0.8 * w, y + 0.03 * w, _median_trimmed),
        "top": (x + 0.5 * w - 1.2 * w, y + 1.5 * h, x + 0.5 * w + 1.2 * w, y + 2.4 * h, _dominant),
        "bottom": (x + 0.5 * w - 0.8 * w, y + 3.4 * h, x + 0.5 * w + 0.8 * w, y + 4.2 * h, _dominant),
    }
    for name, (x0, y0, x1, y1, reduce) in regions.items():
        pixels = _region(rgb, x0, y0, x1, y1)
        if pixels is not None and len(pixels) >= 16:
            colours[name] = to_hex(reduce(pixels))
            sources[name] = "photo"
    return colours, sources


def _median_trimmed(pixels: np.ndarray) -> np.ndarray:
    """Median of the pixels between the 15th and 85th brightness percentiles (no glare, no shadow)."""
    luma = pixels.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    lo, hi = np.percentile(luma, [15, 85])
    keep = pixels[(luma >= lo) & (luma <= hi)]
    return np.median(keep if len(keep) else pixels, axis=0)


def swatch_preview(colours: dict[str, str]) -> bytes:
    cell = 96
    image = np.zeros((cell, cell * len(PART_NAMES), 3), dtype=np.uint8)
    for i, name in enumerate(PART_NAMES):
        value = colours[name].lstrip("#")
        image[:, i * cell : (i + 1) * cell] = (int(value[4:6], 16), int(value[2:4], 16), int(value[0:2], 16))  # BGR
    _ok, buf = cv2.imencode(".png", image)
    return buf.tobytes()


class PaletteStage(Stage):
    name = "palette"

    def run(self, ctx: StageContext) -> StageOutput:
        rgb = decode(ctx.file("ingest", "photo.jpg"))
        detected = ctx.data("detect")
        colours, sources = sample_palette(rgb, detected.get("face"), detected["crop"])
        for name, value in (ctx.options.get("colors") or {}).items():
            if name in colours and value:
                colours[name] = value
                sources[name] = "chosen"
        return StageOutput(data={"palette": colours, "sources": sources}, preview=swatch_preview(colours), preview_type="image/png")
