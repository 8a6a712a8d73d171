"""Stage 2, detect: find the face and decide the head crop.

The face mesh comes from MediaPipe's FaceLandmarker (generation.reading.landmarker); where it
cannot run (package or model missing) or finds nothing, OpenCV's Haar cascades are tried.
Artifacts: files["mesh.npz"] (points (478, 3) in photo pixels) when the landmarker found a face;
data {
  "method": "landmarker" | "haar" | "fallback" | "manual",
  "blendshapes": {ARKit name: score} (landmarker only), "landmarker": "" or why it could not run,
  "face": [x, y, w, h] in photo pixels or null, "eyes": [[x, y], [x, y]] or [],
  "crop": {"cx", "cy", "size", "angle"}  (square in photo pixels, rotated by angle degrees to level the eyes),
  "landmarks": FaceLandmarks as a dict (face-texture coordinates 0..1)
}. When no face is found the crop is centred and the note says so (the user can adjust it).
"""
from __future__ import annotations

import io
import math
from functools import cache

import cv2
import numpy as np

from avatarforge.errors import AppError

from ..chibi.atlas import FACE_SIZE
from ..chibi.head import FaceLandmarks
from ..reading import landmarker
from .base import Stage, StageContext, StageOutput

DETECT_SIDE = 640
CROP_SCALE = 1.5  # head crop side in face widths: the face plus hair, ears and chin
CROP_LIFT = 0.08  # crop centre above the face centre, in face widths


@cache
def _cascade(name: str) -> cv2.CascadeClassifier:
    classifier = cv2.CascadeClassifier(cv2.data.haarcascades + name)
    if classifier.empty():
        raise RuntimeError(f"OpenCV cascade {name} is missing (opencv-python-headless 4.x ships it)")
    return classifier


def decode(data: bytes) -> np.ndarray:
    """RGB array from stored JPEG/PNG bytes."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("stored image could not be decoded")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def find_face(rgb: np.ndarray) -> tuple[list[int] | None, list[list[float]]]:
    """The most convincing frontal face and its eye centres (photo pixels), or (None, [])."""
    height, width = rgb.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(width, height))
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(gray, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else gray
    small = cv2.equalizeHist(small)
    min_side = max(24, int(0.08 * min(small.shape)))
    boxes, _levels, weights = _cascade("haarcascade_frontalface_alt2.xml").detectMultiScale3(
        small, scaleFactor=1.1, minNeighbors=4, minSize=(min_side, min_side), outputRejectLevels=True
    )
    best: tuple[float, list[int], list[list[float]]] | None = None
    for box, weight in zip(boxes, np.ravel(weights), strict=False):
        x, y, w, h = (int(v) for v in box)
        eyes = _find_eyes(small, x, y, w, h)
        score = float(weight) + (4.0 if len(eyes) == 2 else 0.0) + 0.002 * w
        if best is None or score > best[0]:
            best = (score, [x, y, w, h], eyes)
    if best is None:
        return None, []
    _score, box, eyes = best
    inv = 1.0 / scale
    return [round(v * inv) for v in box], [[ex * inv, ey * inv] for ex, ey in eyes]


def _find_eyes(gray: np.ndarray, x: int, y: int, w: int, h: int) -> list[list[float]]:
    region = gray[y : y + int(h * 0.58), x : x + w]
    if region.size == 0:
        return []
    found = _cascade("haarcascade_eye.xml").detectMultiScale(region, scaleFactor=1.1, minNeighbors=4, minSize=(max(8, w // 10),) * 2)
    left, right = [], []
    for ex, ey, ew, eh in found:
        cx, cy = x + ex + ew / 2.0, y + ey + eh / 2.0
        if ey + eh / 2.0 < 0.2 * h:  # brows and hair, not eyes
            continue
        (left if cx < x + w / 2.0 else right).append((ew, [cx, cy]))
    if not left or not right:
        return []
    return [max(left)[1], max(right)[1]]


def crop_matrix(crop: dict) -> np.ndarray:
    """2x3 affine matrix taking photo pixels to face-texture pixels (FACE_SIZE square)."""
    scale = FACE_SIZE / crop["size"]
    matrix = cv2.getRotationMatrix2D((crop["cx"], crop["cy"]), crop["angle"], scale)
    matrix[0, 2] += FACE_SIZE / 2.0 - crop["cx"]
    matrix[1, 2] += FACE_SIZE / 2.0 - crop["cy"]
    return matrix


def _to_face(matrix: np.ndarray, point: list[float]) -> tuple[float, float]:
    x, y = matrix @ np.array([point[0], point[1], 1.0])
    return (round(float(x) / FACE_SIZE, 4), round(float(y) / FACE_SIZE, 4))


def landmarks_for(face: list[int], eyes: list[list[float]], crop: dict) -> FaceLandmarks:
    x, y, w, h = face
    matrix = crop_matrix(crop)
    if len(eyes) != 2:
        eyes = [[x + 0.3 * w, y + 0.4 * h], [x + 0.7 * w, y + 0.4 * h]]
    a, b = _to_face(matrix, eyes[0]), _to_face(matrix, eyes[1])
    left, right = (a, b) if a[0] > b[0] else (b, a)
    unit = w * (FACE_SIZE / crop["size"]) / FACE_SIZE  # face width in texture units
    return FaceLandmarks(
        left_eye=left, right_eye=right,
        eye_w=round(0.2 * unit, 4), eye_h=round(0.11 * unit, 4),
        mouth=_to_face(matrix, [x + 0.5 * w, y + 0.8 * h]), mouth_w=round(0.36 * unit, 4),
    )


def head_crop(face: list[int], eyes: list[list[float]]) -> dict:
    x, y, w, h = face
    angle = 0.0
    if len(eyes) == 2:
        (ax, ay), (bx, by) = sorted(eyes)
        angle = math.degrees(math.atan2(by - ay, bx - ax))
        if abs(angle) > 25.0:
            angle = 0.0
    return {"cx": x + w / 2.0, "cy": y + h / 2.0 - CROP_LIFT * w, "size": CROP_SCALE * w, "angle": round(angle, 2)}


def centred_crop(width: int, height: int) -> dict:
    size = 0.9 * min(width, height)
    cy = min(max(0.42 * height, size / 2.0), height - size / 2.0)
    return {"cx": width / 2.0, "cy": cy, "size": size, "angle": 0.0}


def manual_crop(option: dict, width: int, height: int) -> dict:
    """The user's crop: centre as fractions of the photo, side as a fraction of its shorter side."""
    short = min(width, height)
    return {
        "cx": float(option["x"]) * width,
        "cy": float(option["y"]) * height,
        "size": max(16.0, float(option["size"]) * short),
        "angle": 0.0,
    }


class DetectStage(Stage):
    name = "detect"

    def run(self, ctx: StageContext) -> StageOutput:
        rgb = decode(ctx.file("ingest", "photo.jpg"))
        height, width = rgb.shape[:2]
        mesh, why = None, ""
        try:
            mesh = landmarker.find_mesh(rgb)
        except landmarker.LandmarkerUnavailable as exc:
            why = str(exc)
        ctx.checkpoint(0.5)
        if mesh is not None:
            face, eyes, found = mesh.box, mesh.eye_centres(), "landmarker"
        else:
            (face, eyes), found = find_face(rgb), "haar"
        ctx.checkpoint(0.7)
        note = ""
        manual = ctx.options.get("crop")
        if manual:
            crop = manual_crop(manual, width, height)
            method = "manual"
            inside = face is not None and _centre_inside(face, crop)
            lm = landmarks_for(face, eyes, crop) if inside else FaceLandmarks()
            if not inside:
                face, eyes, mesh = None, [], None
        elif face is not None:
            crop = head_crop(face, eyes)
            method = found
            lm = landmarks_for(face, eyes, crop)
        else:
            crop = centred_crop(width, height)
            method = "fallback"
            lm = FaceLandmarks()
            note = "no_face_found"
        files = {}
        if mesh is not None:
            out = io.BytesIO()
            np.savez(out, points=mesh.points)
            files["mesh.npz"] = out.getvalue()
        return StageOutput(
            data={"method": method, "face": face, "eyes": eyes, "crop": crop, "landmarks": lm.as_dict(),
                  "photo_size": [width, height], "landmarker": why,
                  "blendshapes": mesh.blendshapes if mesh is not None else {}},
            files=files,
            preview=_preview(rgb, face, eyes, crop, mesh),
            note=note,
        )


def _centre_inside(face: list[int], crop: dict) -> bool:
    x, y, w, h = face
    half = crop["size"] / 2.0
    return abs(x + w / 2.0 - crop["cx"]) < half and abs(y + h / 2.0 - crop["cy"]) < half


def load_mesh(ctx: StageContext) -> landmarker.FaceMesh | None:
    """The face mesh the detect stage stored, or None (no landmarker face)."""
    info = ctx.data("detect")
    if info.get("method") not in ("landmarker", "manual") or not info.get("face"):
        return None
    try:
        raw = ctx.file("detect", "mesh.npz")
    except AppError:
        return None
    with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
        points = npz["points"].astype(np.float32)
    return landmarker.FaceMesh(points=points, blendshapes=dict(info.get("blendshapes") or {}))


def _preview(rgb: np.ndarray, face: list[int] | None, eyes: list[list[float]], crop: dict,
             mesh: landmarker.FaceMesh | None = None) -> bytes:
    """What was read: the mesh's landmarks (every one), the face box, the eyes and the crop."""
    image = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    scale = 480.0 / max(image.shape[:2])
    image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    thickness = 2
    if mesh is not None:
        for x, y in mesh.points[:, :2] * scale:
            cv2.circle(image, (int(x), int(y)), 1, (90, 255, 170), -1)
    if face:
        x, y, w, h = (int(round(v * scale)) for v in face)
        cv2.rectangle(image, (x, y), (x + w, y + h), (80, 200, 80), thickness, cv2.LINE_AA)
    for ex, ey in eyes:
        cv2.circle(image, (int(ex * scale), int(ey * scale)), 4, (60, 220, 255), -1, cv2.LINE_AA)
    box = cv2.boxPoints(((crop["cx"] * scale, crop["cy"] * scale), (crop["size"] * scale,) * 2, -crop["angle"]))
    cv2.polylines(image, [np.rint(box).astype(np.int32)], True, (220, 80, 170), thickness, cv2.LINE_AA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return buf.tobytes()
