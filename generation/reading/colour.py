"""Colour helpers of the photo reading: CIELAB conversion, CIEDE2000 and robust medians."""
from __future__ import annotations

import cv2
import numpy as np


def to_hex(rgb) -> str:
    r, g, b = (int(max(0, min(255, round(float(c))))) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def from_hex(value: str) -> np.ndarray:
    value = value.lstrip("#")
    return np.array([int(value[i : i + 2], 16) for i in (0, 2, 4)], dtype=np.float64)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB 0..255 (..., 3) to CIELAB (D65)."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    m = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]])
    xyz = c @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def delta_e(a_rgb, b_rgb) -> float:
    """CIEDE2000 difference of two sRGB colours (0..255 triples or #rrggbb)."""
    a = rgb_to_lab(from_hex(a_rgb) if isinstance(a_rgb, str) else np.asarray(a_rgb, dtype=np.float64))
    b = rgb_to_lab(from_hex(b_rgb) if isinstance(b_rgb, str) else np.asarray(b_rgb, dtype=np.float64))
    l1, a1, b1 = a
    l2, a2, b2 = b
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    cm = (c1 + c2) / 2
    g = 0.5 * (1 - np.sqrt(cm**7 / (cm**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p, h2p = np.degrees(np.arctan2(b1, a1p)) % 360, np.degrees(np.arctan2(b2, a2p)) % 360
    dl, dc = l2 - l1, c2p - c1p
    dh = h2p - h1p
    if c1p * c2p == 0:
        dh = 0.0
    elif dh > 180:
        dh -= 360
    elif dh < -180:
        dh += 360
    dhh = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    lm, cpm = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        hm = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hm = (h1p + h2p) / 2
    else:
        hm = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = 1 - 0.17 * np.cos(np.radians(hm - 30)) + 0.24 * np.cos(np.radians(2 * hm)) + 0.32 * np.cos(np.radians(3 * hm + 6)) - 0.20 * np.cos(np.radians(4 * hm - 63))
    sl = 1 + 0.015 * (lm - 50) ** 2 / np.sqrt(20 + (lm - 50) ** 2)
    sc, sh = 1 + 0.045 * cpm, 1 + 0.015 * cpm * t
    rt = -2 * np.sqrt(cpm**7 / (cpm**7 + 25.0**7)) * np.sin(np.radians(60 * np.exp(-(((hm - 275) / 25) ** 2))))
    return float(np.sqrt((dl / sl) ** 2 + (dc / sc) ** 2 + (dhh / sh) ** 2 + rt * (dc / sc) * (dhh / sh)))


def trimmed_median(pixels: np.ndarray, low: float = 15, high: float = 85) -> np.ndarray:
    """Median of the pixels between two brightness percentiles (no glare, no deep shadow)."""
    luma = pixels.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    lo, hi = np.percentile(luma, [low, high])
    keep = pixels[(luma >= lo) & (luma <= hi)]
    return np.median(keep if len(keep) else pixels, axis=0)


def is_grayscale(rgb: np.ndarray) -> bool:
    """A black-and-white photo (or one so desaturated that its colours say nothing)."""
    sample = rgb[:: max(1, rgb.shape[0] // 128), :: max(1, rgb.shape[1] // 128)].reshape(-1, 3).astype(np.int16)
    spread = sample.max(axis=1) - sample.min(axis=1)
    return float(np.percentile(spread, 90)) < 12.0


def dominant(pixels: np.ndarray, k: int = 4) -> np.ndarray:
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
