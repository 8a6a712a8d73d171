"""From a photo to what a portrait is drawn from: the avatar parameters the photo reading gives
(generation.reading, the same as a generation job's palette stage) and the head crop.

The face comes from MediaPipe's landmarker; where it cannot run or finds no face, OpenCV's Haar
cascade gives the crop and every estimate keeps its default (the job's note says so).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..chibi.params import AvatarParams, from_reading
from ..reading import landmarker
from ..reading.estimates import default_reading, read_photo
from ..stages.detect import centred_crop, find_face, head_crop
from ..stages.stylize import cut_face
from .portrait import PortraitInput


@dataclass
class PhotoRead:
    portrait: PortraitInput
    reading: dict[str, dict]
    method: str  # "landmarker" | "haar" | "fallback"


def params_from(reading: dict[str, dict]) -> AvatarParams:
    colours = {"skin": reading["skin"]["value"], "hair": reading["hair_color"]["value"], "top": reading["clothing"]["value"]}
    return from_reading(reading, colours)


def read_for_portrait(rgb: np.ndarray) -> PhotoRead:
    height, width = rgb.shape[:2]
    try:
        mesh = landmarker.find_mesh(rgb)
    except landmarker.LandmarkerUnavailable:
        mesh = None
    if mesh is not None:
        reading = read_photo(rgb, mesh).estimates
        crop, method = head_crop(mesh.box, mesh.eye_centres()), "landmarker"
    else:
        reading = default_reading()
        face, eyes = find_face(rgb)
        crop, method = (head_crop(face, eyes), "haar") if face is not None else (centred_crop(width, height), "fallback")
    return PhotoRead(portrait=PortraitInput(params=params_from(reading), head_crop=cut_face(rgb, crop)), reading=reading, method=method)
