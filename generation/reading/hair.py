"""Hair: separate the person from the background around the head (OpenCV GrabCut seeded by the
face mesh), then take the hair as the part of the person above and beside the face that is not
skin. From the mask: colour, length class (where it ends relative to the chin), volume and fringe.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .colour import rgb_to_lab, trimmed_median
from .landmarker import BROW_A, BROW_B, CHIN, FACE_OVAL, FOREHEAD_TOP, FaceMesh

WORK_SIDE = 200  # GrabCut runs on the head region scaled to about this many pixels across
LENGTH_CLASSES = ("short", "medium", "long")


@dataclass
class HairRead:
    mask: np.ndarray  # bool, photo-sized region `box` (x0, y0, x1, y1) of the photo
    box: tuple[int, int, int, int]
    person: np.ndarray  # bool, same region: GrabCut's foreground
    colour: np.ndarray | None  # RGB
    coverage: float  # share of the band above the forehead that is hair (0..1)
    length: str
    length_ratio: float  # how far below the chin the hair reaches, in face heights
    volume: float  # hair width at eye level / face width
    fringe: float  # share of the upper forehead covered by hair
    bald: bool


def _region(mesh: FaceMesh, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    height, width = shape[:2]
    x, y, w, h = mesh.box
    cx = x + w / 2
    x0 = int(max(0, cx - 1.5 * w))
    x1 = int(min(width, cx + 1.5 * w))
    y0 = int(max(0, y - 0.8 * h))
    y1 = int(min(height, y + h + 1.4 * h))
    return x0, y0, x1, y1


def segment(rgb: np.ndarray, mesh: FaceMesh, skin_rgb: np.ndarray) -> HairRead:
    x0, y0, x1, y1 = _region(mesh, rgb.shape)
    roi = rgb[y0:y1, x0:x1]
    scale = min(1.0, WORK_SIDE / max(roi.shape[:2]))
    small = cv2.resize(roi, (max(8, round(roi.shape[1] * scale)), max(8, round(roi.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    to_small = lambda pts: ((np.asarray(pts, dtype=np.float32) - [x0, y0]) * scale)  # noqa: E731

    oval = to_small(mesh.points[list(FACE_OVAL), :2])
    centre = oval.mean(axis=0)
    top = to_small(mesh.xy(FOREHEAD_TOP))
    chin = to_small(mesh.xy(CHIN))
    face_h = float(np.linalg.norm(top - chin))
    face_w = mesh.width * scale
    # Where a head and its hair can be (a face width either side of the face's centre, down to the
    # chin) starts as probably person, the rest as probably background (below the chin, the
    # clothes keep their own colour model). GrabCut builds its first colour models
    # from these labels: with everything outside the face called background, long hair hanging
    # beside the face filled the background model with the hair's own colour, and the whole hair
    # was cut away as background (a photo with locks to the chest read as "short").
    mask = np.full((sh, sw), cv2.GC_PR_BGD, np.uint8)
    mask[: int(chin[1]), int(max(0, centre[0] - face_w)) : int(min(sw, centre[0] + face_w))] = cv2.GC_PR_FGD
    # Seeds: the region's side and top bands are background (1.5 face widths out from the face's
    # centre, above the head), not the bottom one, which crosses the shoulders ...
    band = max(2, round(0.04 * max(sh, sw)))
    mask[:, :band] = cv2.GC_BGD
    mask[:, -band:] = cv2.GC_BGD
    mask[:band, :] = cv2.GC_BGD
    # ... the face (shrunk a little) is person, and a band over the forehead probably is.
    cv2.fillPoly(mask, [np.rint(centre + 0.85 * (oval - centre)).astype(np.int32)], cv2.GC_FGD)
    cv2.rectangle(mask, (int(top[0] - 0.3 * face_w), int(top[1] - 0.2 * face_h)), (int(top[0] + 0.3 * face_w), int(top[1])), cv2.GC_PR_FGD, -1)
    # the neck under the chin is person too (it keeps the clothes from being called background)
    cv2.rectangle(mask, (int(chin[0] - 0.2 * face_w), int(chin[1])), (int(chin[0] + 0.2 * face_w), int(min(sh - 1, chin[1] + 0.4 * face_h))), cv2.GC_PR_FGD, -1)

    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.setRNGSeed(5)
        cv2.grabCut(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), mask, None, bgd, fgd, 4, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        pass
    person = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)

    # Hair = person, outside the face oval, above the mouth line or beside the face, not skin.
    face_poly = np.zeros((sh, sw), np.uint8)
    cv2.fillPoly(face_poly, [np.rint(oval).astype(np.int32)], 1)
    lab = rgb_to_lab(small.reshape(-1, 3)).reshape(sh, sw, 3)
    skin_lab = rgb_to_lab(np.asarray(skin_rgb, dtype=np.float64))
    skin_dist = np.linalg.norm(lab - skin_lab, axis=2)
    candidate = person & (face_poly == 0) & (skin_dist > 14.0)
    # Colour from the band just above the forehead.
    bx0, bx1 = int(max(0, top[0] - 0.35 * face_w)), int(min(sw, top[0] + 0.35 * face_w))
    by0, by1 = int(max(0, top[1] - 0.25 * face_h)), int(max(1, top[1] + 0.02 * face_h))
    band_mask = np.zeros((sh, sw), bool)
    band_mask[by0:by1, bx0:bx1] = True
    band_hair = candidate & band_mask
    coverage = float(band_hair.sum()) / max(1, int(band_mask.sum()))
    colour = None
    hair = np.zeros((sh, sw), bool)
    if band_hair.sum() >= 12:
        colour = trimmed_median(small[band_hair])
        hair_lab = rgb_to_lab(colour)
        # Above the mouth, the person outside the face that is not skin is hair (its shadowed
        # sides are darker than the top); lower down it must also be near the hair's colour, or
        # the collar and the clothes would count.
        rows = np.arange(sh)[:, None]
        mouth_y = chin[1] - 0.25 * face_h
        near = np.linalg.norm(lab - hair_lab, axis=2) < max(20.0, 0.6 * float(np.linalg.norm(hair_lab - skin_lab)))
        hair = candidate & ((rows < mouth_y) | near)
        # only what is connected to the hair over the forehead (not a brown sofa behind)
        count, labels = cv2.connectedComponents(hair.astype(np.uint8), connectivity=8)
        keep = np.unique(labels[band_hair & hair])
        keep = keep[keep > 0]
        hair = np.isin(labels, keep)
    # Length: the lowest hair beside the face (outside the face's width), relative to the chin.
    ys, xs = np.nonzero(hair)
    side = (xs < centre[0] - 0.45 * face_w) | (xs > centre[0] + 0.45 * face_w)
    lowest = float(ys[side].max()) if side.any() else float(top[1])
    length_ratio = (lowest - chin[1]) / max(1.0, face_h)
    length = "short" if length_ratio < -0.05 else "medium" if length_ratio < 0.6 else "long"
    eye_y = int(np.clip(round((top[1] + chin[1]) / 2 - 0.1 * face_h), 0, sh - 1))
    row = np.nonzero(hair[max(0, eye_y - 2) : eye_y + 3].any(axis=0))[0]
    volume = float(row.max() - row.min()) / max(1.0, face_w) if len(row) else 0.0
    # Fringe: hair in the strip between the brows and the top of the forehead mesh.
    brow_y = float(np.mean([to_small(mesh.xy(i))[1] for i in BROW_A + BROW_B]))
    fy0, fy1 = int(max(0, top[1])), int(max(0, top[1] + 0.6 * (brow_y - top[1])))
    fx0, fx1 = int(max(0, centre[0] - 0.3 * face_w)), int(min(sw, centre[0] + 0.3 * face_w))
    strip = hair[fy0:fy1, fx0:fx1] if fy1 > fy0 and fx1 > fx0 else np.zeros((1, 1), bool)
    fringe = float(strip.mean()) if strip.size else 0.0

    full = lambda m: cv2.resize(m.astype(np.uint8), (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST).astype(bool)  # noqa: E731
    return HairRead(
        mask=full(hair), box=(x0, y0, x1, y1), person=full(person), colour=colour, coverage=coverage,
        length=length, length_ratio=round(float(length_ratio), 3), volume=round(volume, 3), fringe=round(fringe, 3),
        bald=coverage < 0.15,
    )
