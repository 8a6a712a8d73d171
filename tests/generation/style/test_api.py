"""POST /api/style/transform and its job (seed 004 section 5.7): the seed's fields in our error family,
hostile input with its own codes, ownership before anything else, the PNG result per preset."""
from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from PIL import Image
from rest_framework.test import APIClient

from generation.models import JobStatus, StyleJob

from ..conftest import bomb_png, png_bytes, stored_files
from .conftest import run_style

pytestmark = pytest.mark.django_db

SEED_STATUS_FIELDS = {"job_id", "status", "progress", "current_step", "result_url", "error"}


def transform(client: APIClient, data: bytes | None, *, name: str = "face.jpg", **fields):
    body = {k: v for k, v in fields.items() if v is not None}
    if data is not None:
        body["image"] = SimpleUploadedFile(name, data, content_type="image/jpeg")
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post("/api/style/transform", body, format="multipart")


def png_array(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return np.asarray(image.convert("RGB"))


def result_bytes(client: APIClient, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    return b"".join(response.streaming_content)


def test_transform_answers_202_with_the_seeds_fields_and_queues_a_job(api_client, user, face_jpeg, style_queued):
    response = transform(api_client, face_jpeg, style_preset="anime", strength="0.6")
    assert response.status_code == 202, response.content
    body = response.json()
    job = StyleJob.objects.get(pk=body["job_id"])
    assert body["status_url"] == f"/api/style/status/{job.id}" == response["Location"]
    assert body["status"] == "queued" and body["estimated_time"] > 0
    assert style_queued == [str(job.id)]
    assert job.owner == user and job.preset == "anime" and job.strength == 0.6 and job.input_bytes == len(face_jpeg)

    status = api_client.get(body["status_url"]).json()
    assert SEED_STATUS_FIELDS <= set(status)
    assert status["status"] == "queued" and status["result_url"] is None and status["error"] is None
    assert status["style_preset"] == "anime" and status["strength"] == 0.6 and status["can_cancel"] is True


def test_strength_defaults_to_the_seeds_example(api_client, face_jpeg):
    response = transform(api_client, face_jpeg, style_preset="chibi")
    assert response.status_code == 202, response.content
    assert StyleJob.objects.get().strength == 0.8


def test_anonymous_requests_are_refused(face_jpeg):
    client = APIClient()
    response = transform(client, face_jpeg, style_preset="chibi", strength="0.5")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
    assert not StyleJob.objects.exists()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"style_preset": "vangogh", "strength": "0.5"}, "invalid_style_preset"),
        ({"strength": "0.5"}, "invalid_style_preset"),
        ({"style_preset": "chibi", "strength": "1.5"}, "invalid_strength"),
        ({"style_preset": "chibi", "strength": "-0.1"}, "invalid_strength"),
        ({"style_preset": "chibi", "strength": "nan"}, "invalid_strength"),
        ({"style_preset": "chibi", "strength": "strong"}, "invalid_strength"),
    ],
    ids=["unknown-preset", "no-preset", "strength-over-1", "negative-strength", "nan", "not-a-number"],
)
def test_bad_preset_or_strength_is_refused_with_its_code(api_client, face_jpeg, _media_root, fields, code):
    response = transform(api_client, face_jpeg, **fields)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == code and body["message"] and set(body) == {"code", "message", "details"}
    assert not StyleJob.objects.exists() and stored_files(_media_root) == []


@pytest.mark.parametrize(
    ("make", "code", "status"),
    [
        (lambda face: None, "image_required", 400),
        (lambda face: b"#!/bin/sh\nrm -rf /\n", "image_type_unsupported", 400),
        (lambda face: face[: len(face) // 2], "image_corrupt", 400),
        (lambda face: bomb_png(), "image_too_many_pixels", 400),
        (lambda face: png_bytes(10, 10), "image_too_small", 400),
        (lambda face: b"", "image_empty", 400),
    ],
    ids=["missing", "script", "truncated-jpeg", "decompression-bomb", "tiny", "empty"],
)
def test_not_an_image_is_refused_and_leaves_nothing(api_client, face_jpeg, _media_root, make, code, status):
    data = make(face_jpeg)
    response = transform(api_client, data, style_preset="chibi", strength="0.5")
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert not StyleJob.objects.exists() and stored_files(_media_root) == []


def test_an_oversized_photo_is_refused_with_413(api_client, settings, face_jpeg, _media_root):
    settings.GENERATION_MAX_UPLOAD_BYTES = len(face_jpeg) - 1
    response = transform(api_client, face_jpeg, style_preset="chibi", strength="0.5")
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "image_too_large" and body["details"]["max_bytes"] == len(face_jpeg) - 1
    assert not StyleJob.objects.exists() and stored_files(_media_root) == []


def _finished(client: APIClient, photo: bytes, preset: str, strength: str) -> tuple[StyleJob, dict]:
    response = transform(client, photo, style_preset=preset, strength=strength)
    assert response.status_code == 202, response.content
    job = StyleJob.objects.get(pk=response.json()["job_id"])
    assert run_style(job) == "succeeded"
    return job, client.get(response.json()["status_url"]).json()


def test_each_preset_draws_a_different_png_portrait(api_client, face_jpeg):
    images = {}
    for preset in ("chibi", "anime", "cartoon"):
        job, status = _finished(api_client, face_jpeg, preset, "1.0")
        assert status["status"] == "succeeded" and status["progress"] == 100 and status["current_step"] == "Done"
        assert status["result_url"] == f"/api/style/{job.id}/result.png" and status["face_found_by"] == "landmarker"
        images[preset] = png_array(result_bytes(api_client, status["result_url"])).astype(int)
        assert images[preset].shape == (512, 512, 3)
    for a, b in (("chibi", "anime"), ("chibi", "cartoon"), ("anime", "cartoon")):
        assert np.abs(images[a] - images[b]).mean() > 20, (a, b)  # whole pictures apart, not a tint


def test_strength_zero_uses_only_the_read_colours_and_one_is_the_full_style(api_client, face_jpeg):
    from generation.style.portrait import palette
    from generation.style.reading import params_from

    flat_job, flat = _finished(api_client, face_jpeg, "anime", "0.0")
    _full_job, full = _finished(api_client, face_jpeg, "anime", "1.0")
    flat_png = png_array(result_bytes(api_client, flat["result_url"]))
    full_png = png_array(result_bytes(api_client, full["result_url"]))
    colours = {tuple(int(c) for c in row) for row in palette(params_from(flat_job.reading), "anime")}
    assert {tuple(int(c) for c in px) for px in np.unique(flat_png.reshape(-1, 3), axis=0)} <= colours
    assert len(np.unique(full_png.reshape(-1, 3), axis=0)) > 4 * len(colours)  # shading, lines, highlights


def test_the_chibi_portrait_is_drawn_from_the_reading_alone(api_client, face_jpeg):
    """No photo pixel reaches a chibi portrait: redrawn from the stored reading alone (no photo),
    it is the same picture, pixel for pixel."""
    from generation.style.portrait import PortraitInput, draw_portrait
    from generation.style.reading import params_from

    job, status = _finished(api_client, face_jpeg, "chibi", "0.7")
    stored = png_array(result_bytes(api_client, status["result_url"]))
    redrawn = draw_portrait(PortraitInput(params=params_from(job.reading)), "chibi", 0.7)
    assert np.array_equal(stored, redrawn)
    assert job.reading["skin"]["source"] == "photo" and job.reading["hair_color"]["source"] == "photo"


def test_another_users_job_is_404_everywhere_before_validation(api_client, other_user, face_jpeg):
    job, status = _finished(api_client, face_jpeg, "cartoon", "0.5")
    mallory = APIClient()
    mallory.force_authenticate(other_user)
    for method, url in (
        ("get", f"/api/style/status/{job.id}"), ("get", f"/api/style/{job.id}/result.png"),
        ("post", f"/api/style/{job.id}/cancel"), ("post", f"/api/style/{job.id}/retry"), ("delete", f"/api/style/{job.id}"),
    ):
        response = getattr(mallory, method)(url)
        assert response.status_code == 404 and response.json()["code"] == "not_found", url
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.retries == 0
    assert result_bytes(api_client, status["result_url"])  # still the owner's


def test_cancel_retry_and_delete(api_client, face_jpeg, style_queued, _media_root):
    response = transform(api_client, face_jpeg, style_preset="chibi", strength="0.5")
    job_id = response.json()["job_id"]
    cancelled = api_client.post(f"/api/style/{job_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled" and cancelled.json()["can_retry"] is True
    again = api_client.post(f"/api/style/{job_id}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "job_finished"
    with TestCase.captureOnCommitCallbacks(execute=True):
        retried = api_client.post(f"/api/style/{job_id}/retry")
    assert retried.status_code == 202 and retried.json()["status"] == "queued" and retried.json()["retries"] == 1
    assert style_queued == [job_id, job_id]
    assert run_style(StyleJob.objects.get(pk=job_id)) == "succeeded"
    not_retryable = api_client.post(f"/api/style/{job_id}/retry")
    assert not_retryable.status_code == 409 and not_retryable.json()["code"] == "job_not_retryable"
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert api_client.delete(f"/api/style/{job_id}").status_code == 204
    assert not StyleJob.objects.exists() and stored_files(_media_root) == []


def test_the_result_of_an_unfinished_job_is_not_ready(api_client, face_jpeg):
    job_id = transform(api_client, face_jpeg, style_preset="chibi", strength="0.5").json()["job_id"]
    response = api_client.get(f"/api/style/{job_id}/result.png")
    assert response.status_code == 404 and response.json()["code"] == "result_not_ready"


def test_errors_and_steps_are_in_korean_for_a_korean_reader(api_client, face_jpeg):
    with TestCase.captureOnCommitCallbacks(execute=True):
        bad = api_client.post("/api/style/transform", {"image": SimpleUploadedFile("f.jpg", face_jpeg, content_type="image/jpeg"),
                                                       "style_preset": "oil"}, format="multipart", HTTP_ACCEPT_LANGUAGE="ko")
    assert bad.status_code == 400 and bad.json()["message"] == "스타일을 골라 주세요: chibi, anime, cartoon 중 하나예요."
    job, _status = _finished(api_client, face_jpeg, "chibi", "0.5")
    status = api_client.get(f"/api/style/status/{job.id}", HTTP_ACCEPT_LANGUAGE="ko").json()
    assert status["current_step"] == "완료"
