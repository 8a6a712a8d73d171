"""The photo reading: every estimate with a confidence, and a default when it is too unsure.

`read_photo(rgb, mesh)` returns a JSON-ready dict {name: {"value", "confidence", "source"}} where
source is "photo" (confidence >= THRESHOLD) or "default" (the value is then DEFAULTS[name]; the raw
reading stays in "read" for the preview and for debugging).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from .colour import dominant, is_grayscale, rgb_to_lab, to_hex, trimmed_median
from .hair import HairRead, segment
from .landmarker import (
    BETWEEN_EYES,
    CHEEK_A,
    CHEEK_B,
    CHIN,
    EYE_A,
    EYE_B,
    FACE_LEFT,
    FACE_RIGHT,
    JAW_A,
    JAW_B,
    NOSE_BRIDGE,
    NOSE_TIP,
    FaceMesh,
)

THRESHOLD = 0.5
# Frame edges over the bridge and under the eyes, relative to the cheeks: about 2.4 on bare faces
# and above 20 with thin frames drawn on them (tests/generation/reading); 6 sits between.
GLASSES_SCORE = 6.0
DEFAULTS: dict[str, Any] = {
    "skin": "#f1c7a5", "hair_color": "#4a3328", "hair_length": "medium", "fringe": True, "hair_volume": 1.3,
    "eye_color": "#6b4a3a", "eye_shape": "round", "face_ratio": 0.78, "jaw": 0.75, "glasses": False,
    "clothing": "#e0684a",
}
NAMES = tuple(DEFAULTS)


@dataclass
class Reading:
    estimates: dict[str, dict]
    hair: HairRead | None

    def value(self, name: str) -> Any:
        return self.estimates[name]["value"]


def _estimate(name: str, value: Any, confidence: float) -> dict:
    confidence = round(float(max(0.0, min(1.0, confidence))), 3)
    if value is None or confidence < THRESHOLD:
        return {"value": DEFAULTS[name], "confidence": confidence, "source": "default", "read": _jsonable(value)}
    return {"value": _jsonable(value), "confidence": confidence, "source": "photo"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _disc(rgb: np.ndarray, centre, radius: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    cv2.circle(mask, (round(float(centre[0])), round(float(centre[1]))), max(1, round(radius)), 1, -1)
    return rgb[mask.astype(bool)]


def _yaw(mesh: FaceMesh) -> float:
    """-1..1: how far the nose sits from the middle of the face's sides (0 = frontal)."""
    left, right, nose = mesh.xy(FACE_LEFT), mesh.xy(FACE_RIGHT), mesh.xy(NOSE_TIP)
    half = max(1.0, float(np.linalg.norm(right - left)) / 2)
    return float(np.dot(nose - (left + right) / 2, (right - left) / (2 * half)) / half)


def read_skin(rgb: np.ndarray, mesh: FaceMesh, colour_ok: bool) -> tuple[dict, np.ndarray]:
    radius = 0.07 * mesh.width
    pixels = np.concatenate([_disc(rgb, mesh.xy(CHEEK_A), radius), _disc(rgb, mesh.xy(CHEEK_B), radius)])
    value = trimmed_median(pixels) if len(pixels) >= 8 else None
    spread = float(np.std(rgb_to_lab(pixels)[:, 0])) if len(pixels) >= 8 else 99.0
    size = min(1.0, mesh.width / 80.0)  # a face under 80 px wide says little about colour
    confidence = (0.95 if colour_ok else 0.0) * size * (1.0 if spread < 12 else 0.6)
    return _estimate("skin", None if value is None else to_hex(value), confidence), (value if value is not None else np.array([241, 199, 165]))


def read_eyes(rgb: np.ndarray, mesh: FaceMesh, colour_ok: bool) -> tuple[dict, dict]:
    samples, radii, openness = [], [], []
    for which, eye in ((0, EYE_A), (1, EYE_B)):
        centre, radius = mesh.iris(which)
        radii.append(radius)
        top, bottom = mesh.xy(eye["top"])[1], mesh.xy(eye["bottom"])[1]
        width = float(np.linalg.norm(mesh.xy(eye["outer"]) - mesh.xy(eye["inner"])))
        openness.append(max(0.0, bottom - top) / max(1.0, width))
        h, w = rgb.shape[:2]
        x0, x1 = int(max(0, centre[0] - radius - 1)), int(min(w, centre[0] + radius + 2))
        y0, y1 = int(max(0, centre[1] - radius - 1)), int(min(h, centre[1] + radius + 2))
        if x1 <= x0 or y1 <= y0:
            continue
        ys, xs = np.mgrid[y0:y1, x0:x1]
        r = np.hypot(xs - centre[0], ys - centre[1]) / max(0.5, radius)
        ring = (r > 0.35) & (r < 0.95) & (ys > top + 0.5) & (ys < bottom - 0.5)  # iris, not pupil, not lids
        patch = rgb[y0:y1, x0:x1][ring]
        if len(patch):
            v = patch.max(axis=1)
            samples.append(patch[v < np.percentile(v, 85) + 1])  # no catchlights
    pixels = np.concatenate(samples) if samples else np.zeros((0, 3))
    value = to_hex(np.median(pixels, axis=0)) if len(pixels) >= 6 else None
    r = float(np.mean(radii))
    confidence = (0.9 if colour_ok else 0.0) * min(1.0, r / 6.0) * min(1.0, float(np.mean(openness)) / 0.18)
    # Eye shape from how open the eyes are relative to their width (independent of colour).
    o = float(np.mean(openness))
    shape = "round" if o > 0.32 else "almond" if o > 0.22 else "narrow"
    shape_conf = min(1.0, mesh.width / 100.0) * (1.0 - min(1.0, abs(_yaw(mesh)) * 2)) * (1.0 - min(1.0, mesh.blendshapes.get("mouthSmileLeft", 0.0) * 0.4))
    return _estimate("eye_color", value, confidence), _estimate("eye_shape", shape, shape_conf)


def read_face_shape(mesh: FaceMesh) -> tuple[dict, dict]:
    ratio = mesh.width / max(1.0, mesh.height)
    jaw = float(np.linalg.norm(mesh.xy(JAW_A) - mesh.xy(JAW_B))) / max(1.0, mesh.width)
    frontal = 1.0 - min(1.0, abs(_yaw(mesh)) * 2.5)
    open_mouth = 1.0 - min(1.0, mesh.blendshapes.get("jawOpen", 0.0) * 1.5)
    confidence = 0.95 * frontal * open_mouth
    return _estimate("face_ratio", round(ratio, 3), confidence), _estimate("jaw", round(jaw, 3), confidence)


def glasses_score(rgb: np.ndarray, mesh: FaceMesh) -> float:
    """How strongly a frame's bridge and rims show: horizontal edges over the nose bridge and under
    the eyes, against the same measure on the cheeks (skin texture, lighting)."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gy = np.abs(cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3))
    w = mesh.width

    def box_mean(cx, cy, half_w, half_h) -> float:
        x0, x1 = int(max(0, cx - half_w)), int(min(gray.shape[1], cx + half_w + 1))
        y0, y1 = int(max(0, cy - half_h)), int(min(gray.shape[0], cy + half_h + 1))
        if x1 <= x0 or y1 <= y0:
            return 0.0
        # a frame is a line: the strongest row of the box, not its average
        return float(gy[y0:y1, x0:x1].mean(axis=1).max())

    bridge_pt = (mesh.xy(BETWEEN_EYES) + mesh.xy(NOSE_BRIDGE)) / 2
    bridge = box_mean(bridge_pt[0], bridge_pt[1], 0.05 * w, 0.06 * w)
    rims = []
    for eye in (EYE_A, EYE_B):
        c = (mesh.xy(eye["outer"]) + mesh.xy(eye["inner"])) / 2
        rims.append(box_mean(c[0], mesh.xy(eye["bottom"])[1] + 0.09 * w, 0.08 * w, 0.05 * w))
    cheeks = np.mean([box_mean(*mesh.xy(i), 0.06 * w, 0.04 * w) for i in (CHEEK_A, CHEEK_B)])
    return float((bridge + np.mean(rims)) / 2 / max(4.0, cheeks))


def read_glasses(rgb: np.ndarray, mesh: FaceMesh) -> dict:
    score = glasses_score(rgb, mesh)
    present = score > GLASSES_SCORE
    # Confidence grows with the distance from the decision line and with the face's size.
    confidence = min(1.0, 0.5 + abs(score - GLASSES_SCORE) / GLASSES_SCORE) * min(1.0, mesh.width / 90.0)
    return _estimate("glasses", bool(present), confidence) | {"score": round(score, 3)}


def read_clothing(rgb: np.ndarray, mesh: FaceMesh, hair: HairRead | None, colour_ok: bool) -> dict:
    chin = mesh.xy(CHIN)
    h, w = rgb.shape[:2]
    fh = mesh.height
    x0, x1 = int(max(0, chin[0] - 1.3 * mesh.width)), int(min(w, chin[0] + 1.3 * mesh.width))
    y0, y1 = int(min(h, chin[1] + 0.5 * fh)), int(min(h, chin[1] + 1.4 * fh))
    if y1 - y0 < 4 or x1 - x0 < 4:
        return _estimate("clothing", None, 0.0)
    region = rgb[y0:y1, x0:x1]
    keep = np.ones(region.shape[:2], bool)
    if hair is not None:  # only the person's pixels (GrabCut), where the hair region covers them
        hx0, hy0, hx1, hy1 = hair.box
        sub = np.zeros(region.shape[:2], bool)
        oy0, oy1, ox0, ox1 = max(y0, hy0), min(y1, hy1), max(x0, hx0), min(x1, hx1)
        if oy1 > oy0 and ox1 > ox0:
            sub[oy0 - y0 : oy1 - y0, ox0 - x0 : ox1 - x0] = hair.person[oy0 - hy0 : oy1 - hy0, ox0 - hx0 : ox1 - hx0] & ~hair.mask[oy0 - hy0 : oy1 - hy0, ox0 - hx0 : ox1 - hx0]
            if sub.sum() > 0.2 * sub.size:
                keep = sub
    pixels = region[keep]
    inside = (y1 - y0) / max(1.0, 0.9 * fh)
    if len(pixels) < 32:
        return _estimate("clothing", None, 0.0)
    return _estimate("clothing", to_hex(dominant(pixels)), (0.85 if colour_ok else 0.0) * min(1.0, inside))


def read_photo(rgb: np.ndarray, mesh: FaceMesh) -> Reading:
    colour_ok = not is_grayscale(rgb)
    skin, skin_rgb = read_skin(rgb, mesh, colour_ok)
    hair = segment(rgb, mesh, skin_rgb)
    size = min(1.0, mesh.width / 80.0)
    # In black and white, hair and skin part by brightness alone: the mask is a guess.
    hair_conf = size * min(1.0, hair.coverage / 0.4) * (1.0 if colour_ok else 0.5)
    estimates = {"skin": skin}
    estimates["hair_color"] = _estimate("hair_color", None if hair.colour is None else to_hex(hair.colour), hair_conf * 0.95 if colour_ok else 0.0)
    estimates["hair_length"] = _estimate("hair_length", hair.length, hair_conf * 0.9)
    estimates["fringe"] = _estimate("fringe", hair.fringe > 0.25, hair_conf * min(1.0, 0.5 + abs(hair.fringe - 0.25) * 2))
    estimates["hair_volume"] = _estimate("hair_volume", round(max(1.0, min(1.8, hair.volume)), 3), hair_conf * 0.8)
    estimates["eye_color"], estimates["eye_shape"] = read_eyes(rgb, mesh, colour_ok)
    estimates["face_ratio"], estimates["jaw"] = read_face_shape(mesh)
    estimates["glasses"] = read_glasses(rgb, mesh)
    estimates["clothing"] = read_clothing(rgb, mesh, hair, colour_ok)
    return Reading(estimates=estimates, hair=hair)


def default_reading() -> dict[str, dict]:
    """What a photo without a readable face gives: every default, confidence 0."""
    return {name: {"value": value, "confidence": 0.0, "source": "default", "read": None} for name, value in DEFAULTS.items()}
