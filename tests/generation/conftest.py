"""Fixtures of the generation tests: real photos (frames of the shared face video), a drawing with
no face, hostile files, and the pipeline run inline instead of through Celery."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from PIL import Image, ImageDraw

FIXTURES = Path(settings.BASE_DIR).parent / "shared" / "fixtures"


def mjpeg_frames(path: Path, limit: int | None = None) -> list[bytes]:
    """Split an MJPEG stream (concatenated JPEGs) on the SOI/EOI markers."""
    data = path.read_bytes()
    frames, start = [], data.find(b"\xff\xd8")
    while start != -1 and (limit is None or len(frames) < limit):
        end = data.find(b"\xff\xd9", start)
        if end == -1:
            break
        frames.append(data[start : end + 2])
        start = data.find(b"\xff\xd8", end + 2)
    return frames


@pytest.fixture(scope="session")
def face_jpeg() -> bytes:
    """A real face photo: the first frame of scikit-image's astronaut video (public domain)."""
    return mjpeg_frames(FIXTURES / "camera" / "face.mjpeg", limit=1)[0]


def make_drawing() -> bytes:
    """A flat-colour 'drawing' (a house and a sun) with no face for the cascade to find."""
    image = Image.new("RGB", (480, 400), (190, 225, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((120, 180, 360, 360), fill=(230, 170, 90), outline=(60, 40, 20), width=4)
    draw.polygon([(100, 190), (240, 80), (380, 190)], fill=(180, 60, 50), outline=(60, 40, 20))
    draw.rectangle((210, 270, 270, 360), fill=(110, 70, 40))
    draw.ellipse((390, 30, 460, 100), fill=(255, 220, 60))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="session")
def drawing_png() -> bytes:
    return make_drawing()


def png_bytes(width: int, height: int, colour=(200, 120, 80)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def bomb_png(side: int = 12000) -> bytes:
    """A tiny PNG that claims side x side pixels (144 MP): a decompression bomb."""
    out = io.BytesIO()
    Image.new("1", (side, side), 0).save(out, "PNG", optimize=True)
    return out.getvalue()


@pytest.fixture
def queued(monkeypatch) -> list[str]:
    """Jobs handed to the worker are recorded instead of sent to Celery."""
    from generation import services

    sent: list[str] = []
    monkeypatch.setattr(services, "enqueue", lambda job_id: sent.append(job_id))
    return sent


@pytest.fixture(autouse=True)
def _no_celery(monkeypatch):
    """Never publish to the real broker from tests unless a test opts in (the worker test)."""
    from generation import services

    monkeypatch.setattr(services, "enqueue", lambda job_id: None)


def frame_array(jpeg: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))


@pytest.fixture
def studio_user(make_user):
    """A user whose plan allows many jobs a day (the free plan allows 3)."""
    return make_user("studio@example.com", plan="studio")


def create_job(user, photo: bytes, filename: str = "face.jpg", **options):
    from generation import services
    from generation.serializers import clean_options

    return services.create_job(owner=user, photo=photo, filename=filename, options=clean_options(options))


def run(job) -> str:
    """Run the job inline; after-commit work (announcements, file clean-up) runs as in production."""
    from django.test import TestCase

    from generation.pipeline import run_job

    with TestCase.captureOnCommitCallbacks(execute=True):
        outcome = run_job(job_id=str(job.id))
    job.refresh_from_db()
    return outcome


def stored_files(media_root: Path) -> list[Path]:
    return sorted(p for p in media_root.rglob("*") if p.is_file())
