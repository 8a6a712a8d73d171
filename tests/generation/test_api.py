"""REST API: create (the seed's shape), hostile uploads, status, list, control, files, authorization."""
from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from rest_framework.test import APIClient

from generation.models import GenerationJob, JobStatus

from .conftest import bomb_png, create_job, png_bytes, run, stored_files

pytestmark = pytest.mark.django_db

SEED_STATUS_FIELDS = {"job_id", "status", "progress", "current_step", "result_url", "error"}


def upload(client: APIClient, data: bytes, name: str = "face.jpg", content_type: str = "image/jpeg", **extra):
    return client.post("/api/generate/", {"image": SimpleUploadedFile(name, data, content_type=content_type), **extra}, format="multipart")


def test_create_answers_202_with_the_seeds_fields(api_client, user, face_jpeg, queued):
    options = {"name": "Me", "style": "soft", "heads": 2.2, "colors": {"top": "#112233"}, "license": {"commercial_usage": "personalProfit"}}
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = upload(api_client, face_jpeg, options=json.dumps(options))
    assert response.status_code == 202, response.content
    body = response.json()
    job = GenerationJob.objects.get(pk=body["job_id"])
    assert body["status_url"] == f"/api/generate/status/{job.id}" == response["Location"]
    assert body["status"] == "queued" and body["page_url"] == f"/generate/{job.id}/" and body["estimated_time"] > 0
    assert queued == [str(job.id)]  # handed to the worker after the commit
    assert job.owner == user and job.input_name == "face.jpg" and job.input_bytes == len(face_jpeg)
    assert job.options["style"] == "soft" and job.options["heads"] == 2.2 and job.options["colors"] == {"top": "#112233"}
    assert job.options["license"]["commercial_usage"] == "personalProfit"
    assert job.options["license"]["avatar_permission"] == "onlyAuthor"  # defaults filled in
    assert job.stages.count() == 9


@pytest.mark.parametrize(
    ("make", "name", "code", "status"),
    [
        (lambda face: b"GIF89a not really", "x.gif", "image_type_unsupported", 400),
        (lambda face: b"#!/bin/sh\nrm -rf /\n", "face.jpg", "image_type_unsupported", 400),
        (lambda face: face[: len(face) // 2], "cut.jpg", "image_corrupt", 400),
        (lambda face: bomb_png(), "bomb.png", "image_too_many_pixels", 400),
        (lambda face: png_bytes(1, 1), "dot.png", "image_too_small", 400),
        (lambda face: b"", "empty.jpg", "image_empty", 400),
    ],
    ids=["gif", "script", "truncated-jpeg", "decompression-bomb", "1x1", "empty"],
)
def test_hostile_uploads_are_refused_and_leave_nothing(api_client, face_jpeg, _media_root, make, name, code, status):
    response = upload(api_client, make(face_jpeg), name=name)
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code and body["message"]
    assert not GenerationJob.objects.exists()
    assert stored_files(_media_root) == []


def test_oversized_upload_is_refused_before_decoding(api_client, face_jpeg, settings, _media_root):
    settings.GENERATION_MAX_UPLOAD_BYTES = 10_000
    response = upload(api_client, face_jpeg)
    assert response.status_code == 413
    assert response.json()["code"] == "image_too_large"
    assert response.json()["details"]["max_bytes"] == 10_000
    assert not GenerationJob.objects.exists() and stored_files(_media_root) == []


def test_missing_image_and_bad_options(api_client, face_jpeg):
    response = api_client.post("/api/generate/", {}, format="multipart")
    assert response.status_code == 400 and response.json()["code"] == "image_required"
    for bad in ("not json", json.dumps([1]), json.dumps({"style": "oil"}), json.dumps({"heads": 9}),
                json.dumps({"colors": {"hair": "red"}}), json.dumps({"crop": {"x": 2, "y": 0, "size": 1}})):
        response = upload(api_client, face_jpeg, options=bad)
        assert response.status_code == 400, bad
        assert response.json()["code"] == "invalid"
    assert not GenerationJob.objects.exists()


def test_daily_limit_answers_403(api_client, user, face_jpeg):
    for _ in range(user.plan.generation_jobs_per_day):
        assert upload(api_client, face_jpeg).status_code == 202
    response = upload(api_client, face_jpeg)
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "generation_jobs_per_day_exceeded"
    assert body["details"]["allowed"] == user.plan.generation_jobs_per_day


def test_status_follows_the_job_to_its_result(api_client, user, face_jpeg):
    job = create_job(user, face_jpeg, name="Me")
    body = api_client.get(f"/api/generate/status/{job.id}").json()
    assert SEED_STATUS_FIELDS <= set(body)
    assert body["status"] == "queued" and body["progress"] == 0 and body["result_url"] is None and body["error"] is None
    assert body["current_step"] == "Waiting for a worker"
    assert [s["name"] for s in body["stages"]] == ["ingest", "detect", "stylize", "palette", "body", "rig", "export", "validate", "register"]

    assert run(job) == "succeeded"
    body = api_client.get(f"/api/generate/status/{job.id}").json()
    assert body["status"] == "succeeded" and body["progress"] == 100 and body["current_step"] == "Done"
    assert body["result_url"] == f"/api/generate/{job.id}/result.vrm"
    assert body["avatar"]["id"] == str(job.avatar_id) and body["avatar"]["name"] == "Me"
    assert set(body["timings"]) == set(s["name"] for s in body["stages"]) and body["compute_ms"] > 0
    assert body["thumbnail_url"].startswith(f"/api/generate/{job.id}/stages/export/preview?v=")
    assert body["can_cancel"] is False and body["can_retry"] is False
    assert api_client.get(f"/api/generate/{job.id}").json() == body

    result = api_client.get(body["result_url"])
    assert result.status_code == 200 and result["Content-Type"] == "model/gltf-binary"
    data = b"".join(result.streaming_content)
    assert data[:4] == b"glTF"
    assert 'filename="Me.vrm"' in result["Content-Disposition"]
    for stage in body["stages"]:
        if stage["preview_url"]:
            preview = api_client.get(stage["preview_url"])
            assert preview.status_code == 200 and preview["Content-Type"] in ("image/jpeg", "image/png")
            assert b"".join(preview.streaming_content)[:2] in (b"\xff\xd8", b"\x89P")
    photo = api_client.get(body["face"]["photo_url"])
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"


def test_failed_status_carries_code_and_message(api_client, user, face_jpeg, settings):
    settings.GENERATION_BACKENDS = {"palette": "tests.generation.backends.BrokenPalette"}
    job = create_job(user, face_jpeg)
    assert run(job) == "failed"
    body = api_client.get(f"/api/generate/status/{job.id}").json()
    assert body["status"] == "failed" and body["error"]["code"] == "generation_failed"
    assert body["current_step"] == "Failed at “Reading hair, eyes and colours”"
    assert body["can_retry"] is True and body["result_url"] is None
    assert api_client.get(f"/api/generate/{job.id}/result.vrm").json()["code"] == "result_not_ready"


def test_cancel_retry_delete_through_the_api(api_client, user, face_jpeg, queued):
    job = create_job(user, face_jpeg)
    response = api_client.post(f"/api/generate/{job.id}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert api_client.post(f"/api/generate/{job.id}/cancel").json()["code"] == "job_finished"
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api_client.post(f"/api/generate/{job.id}/retry")
    assert response.status_code == 202 and response.json()["status"] == "queued"
    assert queued == [str(job.id)]
    assert api_client.delete(f"/api/generate/{job.id}").json()["code"] == "job_running"
    api_client.post(f"/api/generate/{job.id}/cancel")
    assert api_client.delete(f"/api/generate/{job.id}").status_code == 204
    assert not GenerationJob.objects.filter(pk=job.pk).exists()


def test_status_read_writes_nothing_and_the_periodic_sweep_fails_a_dead_workers_job(api_client, user, face_jpeg, settings):
    from datetime import timedelta

    from django.utils import timezone

    from generation.tasks import sweep_stale_generation_jobs

    settings.GENERATION_STAGE_TIMEOUT = 5
    job = create_job(user, face_jpeg)
    GenerationJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, stage="rig", heartbeat_at=timezone.now() - timedelta(hours=1))
    before = GenerationJob.objects.values().get(pk=job.pk)
    for path in (f"/api/generate/status/{job.id}", f"/api/generate/{job.id}", "/api/generate/"):
        assert api_client.get(path).status_code == 200
    assert GenerationJob.objects.values().get(pk=job.pk) == before  # reads never write
    assert api_client.get(f"/api/generate/status/{job.id}").json()["status"] == "running"
    assert sweep_stale_generation_jobs.apply().get() == 1  # what Celery beat runs every minute
    body = api_client.get(f"/api/generate/status/{job.id}").json()
    assert body["status"] == "failed" and body["error"]["code"] == "worker_lost" and body["can_retry"]


def test_list_is_the_users_jobs_only(api_client, user, other_user, face_jpeg):
    mine = create_job(user, face_jpeg, name="Mine")
    create_job(other_user, face_jpeg, name="Theirs")
    body = api_client.get("/api/generate/").json()
    assert body["count"] == 1
    assert [j["job_id"] for j in body["results"]] == [str(mine.id)]
    assert body["results"][0]["name"] == "Mine" and body["results"][0]["status"] == "queued"


def test_nobody_sees_another_users_job(user, other_user, face_jpeg):
    job = create_job(user, face_jpeg)
    assert run(job) == "succeeded"
    intruder = APIClient()
    intruder.force_authenticate(other_user)
    urls = [
        ("get", f"/api/generate/status/{job.id}"), ("get", f"/api/generate/{job.id}"),
        ("get", f"/api/generate/{job.id}/result.vrm"), ("get", f"/api/generate/{job.id}/photo"),
        ("get", f"/api/generate/{job.id}/stages/export/preview"), ("post", f"/api/generate/{job.id}/cancel"),
        ("post", f"/api/generate/{job.id}/retry"), ("delete", f"/api/generate/{job.id}"),
    ]
    for method, url in urls:
        response = getattr(intruder, method)(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found", url
    response = intruder.post(f"/api/generate/{job.id}/recrop", {"crop": {"x": 0.5, "y": 0.5, "size": 0.5}}, format="json")
    assert response.status_code == 404
    assert GenerationJob.objects.count() == 1 and GenerationJob.objects.get().status == JobStatus.SUCCEEDED

    anonymous = APIClient()
    for method, url in urls + [("get", "/api/generate/"), ("post", "/api/generate/")]:
        assert getattr(anonymous, method)(url).status_code in (401, 403), url


def test_recrop_starts_a_new_job(api_client, studio_user, face_jpeg):
    client = APIClient()
    client.force_authenticate(studio_user)
    job = create_job(studio_user, face_jpeg)
    assert run(job) == "succeeded"
    response = client.post(f"/api/generate/{job.id}/recrop", {"crop": {"x": 0.5, "y": 0.4, "size": 0.6}}, format="json")
    assert response.status_code == 202
    new = GenerationJob.objects.get(pk=response.json()["job_id"])
    assert new.source_job == job and new.options["crop"] == {"x": 0.5, "y": 0.4, "size": 0.6}
    assert client.post(f"/api/generate/{job.id}/recrop", {"crop": {"x": 5}}, format="json").status_code == 400


def test_unknown_stage_preview_and_options(api_client, user, face_jpeg):
    job = create_job(user, face_jpeg)
    assert api_client.get(f"/api/generate/{job.id}/stages/../preview").status_code == 404
    assert api_client.get(f"/api/generate/{job.id}/stages/ingest/preview").json()["code"] == "preview_missing"
    options = api_client.get("/api/generate/options").json()
    assert {s["value"] for s in options["styles"]} == {"toon", "soft", "comic", "pastel"}
    assert [s["name"] for s in options["stages"]][0] == "ingest"
    assert options["heads"]["default"] == 2.5


def test_pipeline_messages_are_rendered_in_the_readers_language(api_client, user, face_jpeg):
    """The worker stored its message in its own language; the reader gets one rendered now."""
    job = create_job(user, face_jpeg)
    GenerationJob.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED, stage="rig", error_code="worker_lost", error_message="(stored in the worker's language)",
    )
    body = api_client.get(f"/api/generate/status/{job.id}").json()
    assert body["error"]["code"] == "worker_lost"
    assert body["error"]["message"] == "The worker stopped during “Rigging the skeleton and face”. Retry to continue from that step."
    GenerationJob.objects.filter(pk=job.pk).update(error_code="rig_unavailable", error_message="The rig server is warming up.")
    assert api_client.get(f"/api/generate/status/{job.id}").json()["error"]["message"] == "The rig server is warming up."
