"""Stage 4, palette: read the photo into avatar parameters and pick the colours.

With a face mesh from detect, generation.reading estimates skin, hair (colour, length, volume,
fringe; GrabCut hair mask), eyes (colour, shape), face shape, glasses and clothing, each with a
confidence (defaults below the threshold). Without one, colours are sampled from regions relative
to the face box as before. Colours the user chose always win.
Artifacts: data {"palette": {"skin", "hair", "top", "bottom", "shoes"} as #rrggbb,
"sources": {name: "photo" | "default" | "chosen"},
"reading": {estimate name: {"value", "confidence", "source"}} (see reading.estimates),
"reading_ms": time the photo reading took}.
The preview shows what was read: the hair mask over the head, and the palette with the eye colour.
"""
from __future__ import annotations

import time

import cv2
import numpy as np

from ..reading.colour import dominant as _dominant
from ..reading.colour import to_hex
from ..reading.estimates import Reading, default_reading, read_photo
from .base import Stage, StageContext, StageOutput
from .detect import decode, load_mesh

DEFAULTS = {"skin": "#f1c7a5", "hair": "#4a3328", "top": "#e0684a", "bottom": "#34405e", "shoes": "#3a3440"}
PART_NAMES = ("skin", "hair", "top", "bottom", "shoes")


def _region(rgb: np.ndarray, x0: float, y0: float, x1: float, y1: float, min_inside: float = 0.3) -> np.ndarray | None:
    """Pixels of a box (clipped to the photo), or None when too little of it is inside."""
    height, width = rgb.shape[:2]
    area = max(1.0, (x1 - x0) * (y1 - y0))
    cx0, cy0 = int(max(0, x0)), int(max(0, y0))
    cx1, cy1 = int(min(width, x1)), int(min(height, y1))
    if cx1 <= cx0 or cy1 <= cy0 or (cx1 - cx0) * (cy1 - cy0) < min_inside * area:
        return None
    return rgb[cy0:cy1, cx0:cx1].reshape(-1, 3)


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


def reading_preview(rgb: np.ndarray, reading: Reading | None, colours: dict[str, str], eye: str) -> bytes:
    """The head region with the hair mask tinted and the person outlined, then the swatches."""
    side = 240
    if reading is not None and reading.hair is not None:
        x0, y0, x1, y1 = reading.hair.box
        head = rgb[y0:y1, x0:x1].astype(np.float32)
        tint = np.array([255, 40, 200], np.float32)
        head[reading.hair.mask] = 0.45 * head[reading.hair.mask] + 0.55 * tint
        head = np.clip(head, 0, 255).astype(np.uint8)
        scale = side / max(head.shape[:2])
        head = cv2.resize(head, (max(1, round(head.shape[1] * scale)), max(1, round(head.shape[0] * scale))), interpolation=cv2.INTER_AREA)
        person = cv2.resize(reading.hair.person.astype(np.uint8), (head.shape[1], head.shape[0]), interpolation=cv2.INTER_NEAREST)
        contours, _h = cv2.findContours(person, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(head, contours, -1, (80, 230, 120), 2)
    else:
        head = np.full((side, side, 3), 60, np.uint8)
    canvas = np.full((side, side + 6 * 40, 3), 245, np.uint8)
    canvas[: head.shape[0], : head.shape[1]] = head
    names = [colours[n] for n in PART_NAMES] + [eye]
    for i, value in enumerate(names):
        v = value.lstrip("#")
        canvas[:, side + i * 40 : side + (i + 1) * 40] = (int(v[0:2], 16), int(v[2:4], 16), int(v[4:6], 16))
    _ok, buf = cv2.imencode(".png", cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
    return buf.tobytes()


class PaletteStage(Stage):
    name = "palette"

    def run(self, ctx: StageContext) -> StageOutput:
        rgb = decode(ctx.file("ingest", "photo.jpg"))
        detected = ctx.data("detect")
        colours, sources = sample_palette(rgb, detected.get("face"), detected["crop"])
        started = time.perf_counter()
        mesh = load_mesh(ctx)
        reading = read_photo(rgb, mesh) if mesh is not None else None
        estimates = reading.estimates if reading is not None else default_reading()
        reading_ms = int((time.perf_counter() - started) * 1000)
        ctx.checkpoint(0.8)
        if reading is not None:  # the reading's value, or its default when it was unsure
            for name, key in (("skin", "skin"), ("hair", "hair_color"), ("top", "clothing")):
                colours[name], sources[name] = estimates[key]["value"], estimates[key]["source"]
        for name, value in (ctx.options.get("colors") or {}).items():
            if name in colours and value:
                colours[name] = value
                sources[name] = "chosen"
        return StageOutput(
            data={"palette": colours, "sources": sources, "reading": estimates, "reading_ms": reading_ms},
            preview=reading_preview(rgb, reading, colours, estimates["eye_color"]["value"]), preview_type="image/png",
        )
