"""The photo reading on real photos nobody here drew: scikit-image's astronaut (NASA portrait of
Eileen Collins, public domain), its mirror image, and frames of the shared face video (the same
portrait rolled and scaled). Expected values were labelled by hand, looking at the photo:

- skin: the mean of two 9x9 cheek patches picked by eye, (198, 125) and (250, 128): #e6c3ae
- hair: the mean of two 9x9 patches on top of the head, (217, 58) and (240, 45): #947d52
- clothing: the orange launch suit, 17x17 patches at (100, 380) and (320, 330): #d55c35
- eyes: brown; hair: short (ends above the ear lobes, well above the chin); no glasses.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from generation.reading import landmarker
from generation.reading.colour import delta_e
from generation.reading.estimates import DEFAULTS, GLASSES_SCORE, read_photo
from generation.reading.landmarker import CHIN, EYE_A, EYE_B, FACE_LEFT, FACE_RIGHT, FOREHEAD_TOP, find_mesh

from ..conftest import FIXTURES, mjpeg_frames

skimage_data = pytest.importorskip("skimage.data")

SKIN, HAIR, SUIT = "#e6c3ae", "#947d52", "#d55c35"

pytestmark = pytest.mark.skipif(bool(landmarker.available()), reason=landmarker.available() or "ok")


def astronaut() -> np.ndarray:
    return skimage_data.astronaut()


def video_frame(index: int) -> np.ndarray:
    jpeg = mjpeg_frames(FIXTURES / "camera" / "face.mjpeg", limit=index + 1)[index]
    return cv2.cvtColor(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


PHOTOS = {
    "astronaut": astronaut,
    "mirrored": lambda: np.ascontiguousarray(astronaut()[:, ::-1]),
    "video_first": lambda: video_frame(0),
    "video_late": lambda: video_frame(90),
}


@pytest.fixture(scope="module", params=list(PHOTOS))
def reading(request):
    rgb = PHOTOS[request.param]()
    mesh = find_mesh(rgb)
    assert mesh is not None, request.param
    return read_photo(rgb, mesh).estimates


def test_skin_tone_within_delta_e_of_the_label(reading):
    assert reading["skin"]["source"] == "photo"
    assert delta_e(reading["skin"]["value"], SKIN) < 6.0


def test_hair_colour_within_delta_e_of_the_label(reading):
    assert reading["hair_color"]["source"] == "photo"
    assert delta_e(reading["hair_color"]["value"], HAIR) < 8.0
    # and it is hair, not skin nor the grey backdrop
    assert delta_e(reading["hair_color"]["value"], SKIN) > 20.0


def test_hair_is_short(reading):
    assert reading["hair_length"]["value"] == "short" and reading["hair_length"]["source"] == "photo"
    assert reading["hair_volume"]["value"] > 1.1  # the hair stands out beside the face


def test_no_glasses(reading):
    assert reading["glasses"]["value"] is False and reading["glasses"]["source"] == "photo"


def test_clothing_is_the_orange_suit(reading):
    assert delta_e(reading["clothing"]["value"], SUIT) < 10.0


def test_eyes_are_brown_and_the_face_is_measured(reading):
    r, g, b = (int(reading["eye_color"]["read" if reading["eye_color"]["source"] == "default" else "value"][i : i + 2], 16) for i in (1, 3, 5))
    assert r > b + 20 and r >= g  # brown: red over blue, not a blue or green eye
    assert 0.75 < reading["face_ratio"]["value"] < 0.95 and reading["face_ratio"]["source"] == "photo"


def draw_glasses(rgb: np.ndarray) -> np.ndarray:
    """Thin dark frames drawn over the real photo's eyes (no glasses photo ships with a package)."""
    mesh = find_mesh(rgb)
    out, w, centres = rgb.copy(), mesh.width, []
    for eye in (EYE_A, EYE_B):
        c = (mesh.xy(eye["outer"]) + mesh.xy(eye["inner"])) / 2
        centres.append(c)
        cv2.rectangle(out, (int(c[0] - 0.2 * w), int(c[1] - 0.11 * w)), (int(c[0] + 0.2 * w), int(c[1] + 0.12 * w)), (25, 25, 30), 2, cv2.LINE_AA)
    a, b = sorted(centres, key=lambda p: p[0])
    cv2.line(out, (int(a[0] + 0.2 * w), int(a[1] - 0.02 * w)), (int(b[0] - 0.2 * w), int(b[1] - 0.02 * w)), (25, 25, 30), 2, cv2.LINE_AA)
    return out


@pytest.mark.parametrize("photo", ["astronaut", "video_first"])
def test_glasses_are_seen(photo):
    rgb = draw_glasses(PHOTOS[photo]())
    estimates = read_photo(rgb, find_mesh(rgb)).estimates
    assert estimates["glasses"]["value"] is True and estimates["glasses"]["score"] > GLASSES_SCORE


def draw_locks(rgb: np.ndarray, reach: float) -> np.ndarray:
    """Locks of the photo's own hair colour drawn from the temples down both sides of the face to
    `reach` face heights below the chin (no long-haired portrait ships with a package). Each lock
    starts inside the real hair on top, so it is one piece with it, as real long hair is."""
    mesh = find_mesh(rgb)
    out = rgb.copy()
    top, chin = mesh.xy(FOREHEAD_TOP), mesh.xy(CHIN)
    face_h = float(np.linalg.norm(top - chin))
    end_y = int(chin[1] + reach * face_h)
    colour = tuple(int(int(HAIR[i : i + 2], 16) * 0.8) for i in (1, 3, 5))  # a little darker, as hair in shade
    for side, sign in ((mesh.xy(FACE_LEFT), -1), (mesh.xy(FACE_RIGHT), 1)):
        x_in = int(side[0] + sign * 0.02 * mesh.width)
        x_out = int(side[0] + sign * 0.28 * mesh.width)
        start_y = int(top[1] - 0.1 * face_h)
        cv2.fillPoly(out, [np.array([(x_in, start_y), (x_out, start_y), (x_out, end_y), (x_in, end_y)], np.int32)], colour)
    return out


@pytest.mark.parametrize(("reach", "length"), [(0.3, "medium"), (1.0, "long")])
def test_hair_drawn_down_past_the_chin_reads_as_its_length(reach, length):
    rgb = draw_locks(astronaut(), reach)
    estimates = read_photo(rgb, find_mesh(rgb)).estimates
    assert estimates["hair_length"]["source"] == "photo"
    assert estimates["hair_length"]["value"] == length


def test_black_and_white_photo_keeps_default_colours():
    grey = cv2.cvtColor(cv2.cvtColor(astronaut(), cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    estimates = read_photo(grey, find_mesh(grey)).estimates
    for name in ("skin", "hair_color", "eye_color", "clothing"):
        assert estimates[name]["source"] == "default" and estimates[name]["value"] == DEFAULTS[name], name
    # hair parted from skin by brightness alone is too unsure to use; glasses need no colour
    assert estimates["hair_length"]["source"] == "default" and estimates["hair_length"]["confidence"] < 0.5
    assert estimates["glasses"]["value"] is False and estimates["glasses"]["source"] == "photo"


def test_no_face_no_mesh(drawing_png):
    rgb = cv2.cvtColor(cv2.imdecode(np.frombuffer(drawing_png, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert find_mesh(rgb) is None
