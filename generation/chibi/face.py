"""The drawn anime face: skin, eye whites with a heavy upper lash line, brows at rest, a nose mark,
a small mouth and blush, plus the iris texture. Everything is drawn by code from the avatar's
parameters (colours, eye shape, glasses); no photo pixel is used.

The eye white follows exactly the lid curves of head.py (`_lid_rows`), so a closed lid covers it.
Lines are drawn at twice the size and scaled down (anti-aliased edges at no extra cost).
"""
from __future__ import annotations

import cv2
import numpy as np

from .atlas import CELL, FACE_SIZE, hex_to_rgb, shade
from .head import FaceLandmarks, _lid_rows

SS = 2  # supersampling factor


def _px(u, v) -> np.ndarray:
    return np.rint(np.stack([np.asarray(u) * FACE_SIZE * SS, np.asarray(v) * FACE_SIZE * SS], axis=-1)).astype(np.int32)


def _vivid(rgb: tuple[int, int, int], saturation: float = 1.5, value: float = 1.25) -> tuple[int, int, int]:
    """Anime irises are brighter and more saturated than real ones."""
    hsv = cv2.cvtColor(np.uint8([[rgb]]), cv2.COLOR_RGB2HSV).astype(np.float32)[0, 0]
    hsv[1] = min(255.0, hsv[1] * saturation + 20)
    hsv[2] = min(235.0, max(90.0, hsv[2] * value + 30))
    return tuple(int(c) for c in cv2.cvtColor(np.uint8([[hsv]]), cv2.COLOR_HSV2RGB)[0, 0])


def draw_face(lm: FaceLandmarks, *, skin: str, hair: str, glasses: bool = False, glasses_color: str = "#2a2a33") -> np.ndarray:
    side = FACE_SIZE * SS
    skin_rgb = hex_to_rgb(skin)
    image = np.empty((side, side, 3), np.uint8)
    image[:] = skin_rgb
    line = (48, 30, 34)
    lash = shade(hex_to_rgb(hair), 0.3) if sum(hex_to_rgb(hair)) > 240 else (34, 22, 26)
    brow = shade(hex_to_rgb(hair), 0.7)
    blush = tuple(int(0.7 * c + 0.3 * b) for c, b in zip(skin_rgb, (240, 120, 130), strict=True))
    for index, (eye, inner_low) in enumerate(((lm.left_eye, True), (lm.right_eye, False))):
        ex, ey = eye
        # blush under the eye, towards the outside
        outward = 1 if index == 0 else -1
        centre = _px(ex + outward * 0.25 * lm.eye_w, ey + 1.25 * lm.eye_h)
        cv2.ellipse(image, tuple(centre), (int(0.75 * lm.eye_w * side), int(0.3 * lm.eye_h * side)), 0, 0, 360, blush, -1, cv2.LINE_AA)
        u, top, _bottom, _lash = _lid_rows(lm, eye, inner_low, 0.0, 0.0, 0.0)
        _u, _t, close, _l = _lid_rows(lm, eye, inner_low, 1.0, 0.0, 0.0)
        white = np.concatenate([_px(u, top), _px(u[::-1], close[::-1])])
        cv2.fillPoly(image, [white], (250, 248, 246), cv2.LINE_AA)
        # heavy upper lash line, thicker at the outer corner, with a small flick
        pts = _px(u, top)
        outer_last = not inner_low  # which end of the row is the outer corner
        for k in range(len(pts) - 1):
            s = (k + 0.5) / (len(pts) - 1)
            weight = s if outer_last else 1 - s
            cv2.line(image, tuple(pts[k]), tuple(pts[k + 1]), lash, int(side * lm.eye_h * (0.1 + 0.12 * weight)), cv2.LINE_AA)
        tip = pts[-1] if outer_last else pts[0]
        flick = tip + np.array([outward * 0.18 * lm.eye_w * side * 0.6, -0.12 * lm.eye_h * side]).astype(np.int32)
        cv2.line(image, tuple(tip), tuple(flick), lash, int(side * lm.eye_h * 0.12), cv2.LINE_AA)
        # a short lower lash mark at the outer corner
        low = _px(u, close)
        a, b = (low[-3], low[-1]) if outer_last else (low[2], low[0])
        cv2.line(image, tuple(a), tuple(b), shade(lash, 1.6), max(2, int(side * lm.eye_h * 0.05)), cv2.LINE_AA)
        # brow at rest (the brow overlays of head.py draw the expressive ones)
        s = np.linspace(0.0, 1.0, 9)
        bu = ex + (s - 0.5) * 1.2 * lm.eye_w
        bv = ey - 1.55 * lm.eye_h - 0.18 * lm.eye_h * (1 - (2 * s - 1) ** 2)
        cv2.polylines(image, [_px(bu, bv)], False, brow, max(3, int(side * lm.eye_h * 0.1)), cv2.LINE_AA)
        if glasses:
            cv2.ellipse(image, tuple(_px(ex, ey - 0.15 * lm.eye_h)), (int(1.0 * lm.eye_w * side), int(1.05 * lm.eye_h * side)),
                        0, 0, 360, hex_to_rgb(glasses_color), max(3, int(side * 0.006)), cv2.LINE_AA)
    if glasses:
        a = _px(lm.right_eye[0] + 1.0 * lm.eye_w, lm.right_eye[1] - 0.3 * lm.eye_h)
        b = _px(lm.left_eye[0] - 1.0 * lm.eye_w, lm.left_eye[1] - 0.3 * lm.eye_h)
        cv2.line(image, tuple(a), tuple(b), hex_to_rgb(glasses_color), max(3, int(side * 0.006)), cv2.LINE_AA)
    # nose: a small shadow mark; mouth at rest: a short soft curve
    mx, my = lm.mouth
    nose = _px(mx + 0.005, my - 0.1)
    cv2.line(image, tuple(nose), tuple(nose + np.array([-int(0.006 * side), int(0.012 * side)])), shade(skin_rgb, 0.78), max(2, int(side * 0.006)), cv2.LINE_AA)
    s = np.linspace(-1.0, 1.0, 9)
    cv2.polylines(image, [_px(mx + s * 0.22 * lm.mouth_w, my - 0.06 * lm.mouth_w * (1 - s**2) + 0.02 * lm.mouth_w)], False, line,
                  max(2, int(side * 0.005)), cv2.LINE_AA)
    return cv2.resize(image, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)


def draw_iris(eye_color: str) -> np.ndarray:
    """The iris cell (CELL square): a vivid gradient, darker at the top, a pupil, two highlights."""
    side = CELL * SS
    base = _vivid(hex_to_rgb(eye_color))
    dark = shade(base, 0.35)
    yy, xx = (np.mgrid[0:side, 0:side].astype(np.float32) + 0.5) / side * 2 - 1
    r = np.hypot(xx / 0.92, yy / 0.92)
    t = np.clip((yy + 1) / 2, 0, 1)[:, :, None]  # 0 top .. 1 bottom
    colour = (1 - t) * np.array(dark, np.float32) + t * np.array(shade(base, 1.15), np.float32)
    ring = np.clip((r - 0.78) / 0.2, 0, 1)[:, :, None]
    colour = (1 - ring) * colour + ring * np.array(shade(base, 0.3), np.float32)
    image = np.clip(colour, 0, 255).astype(np.uint8)
    c = side // 2
    cv2.ellipse(image, (c, int(c * 1.05)), (int(0.3 * c), int(0.38 * c)), 0, 0, 360, shade(base, 0.18), -1, cv2.LINE_AA)
    cv2.ellipse(image, (int(c * 0.62), int(c * 0.55)), (int(0.24 * c), int(0.2 * c)), -20, 0, 360, (255, 255, 255), -1, cv2.LINE_AA)
    cv2.circle(image, (int(c * 1.4), int(c * 1.45)), int(0.1 * c), (255, 255, 255), -1, cv2.LINE_AA)
    return cv2.resize(image, (CELL, CELL), interpolation=cv2.INTER_AREA)
