"""The parameters API: read what the photo said and what the avatar was built from, change some,
and get a re-export job that builds a new avatar version with them."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from characters.models import Avatar
from generation.models import GenerationJob

from .conftest import create_job, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(studio_user) -> APIClient:
    c = APIClient()
    c.force_authenticate(studio_user)
    return c


@pytest.fixture
def built(studio_user, face_jpeg):
    job = create_job(studio_user, face_jpeg, name="Astro")
    assert run(job) == "succeeded"
    return job


def test_get_shows_the_parameters_and_the_reading(client, built):
    response = client.get(f"/api/generate/{built.id}/params")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["job_id"] == str(built.id)
    assert body["params"]["hair_style"] == "short" and body["params"]["glasses"] is False
    assert body["params"]["hair_color"] == body["reading"]["hair_color"]["value"]
    assert body["reading"]["skin"]["source"] == "photo" and 0.5 <= body["reading"]["skin"]["confidence"] <= 1
    assert [c["value"] for c in body["choices"]["hair_style"]] == ["short", "bob", "long", "ponytail"]


def test_put_rebuilds_with_the_changes_as_a_new_avatar(client, built, studio_user):
    response = client.put(f"/api/generate/{built.id}/params", {"params": {"hair_style": "long", "hair_color": "#C03050", "glasses": True, "outfit": "dress"}}, format="json")
    assert response.status_code == 202, response.content
    new = GenerationJob.objects.get(pk=response.json()["job_id"])
    assert new.source_job == built and new.options["name"] == "Astro"
    assert run(new) == "succeeded"
    params = client.get(f"/api/generate/{new.id}/params").json()["params"]
    assert (params["hair_style"], params["hair_color"], params["glasses"], params["outfit"]) == ("long", "#c03050", True, "dress")
    # everything not changed is what the first job had
    first = client.get(f"/api/generate/{built.id}/params").json()["params"]
    changed = ("hair_style", "hair_color", "glasses", "outfit")
    assert first["outfit"] == "casual"
    assert {k: v for k, v in params.items() if k not in changed} == {k: v for k, v in first.items() if k not in changed}
    body = new.stages.get(name="body").data
    assert len(body["hair"]["chains"]) == 6  # long hair: six locks
    assert "skirt" in [part["name"] for part in body["parts"]["body"]]  # the dress is geometry
    validate = new.stages.get(name="validate").data
    assert validate["validator"]["errors"] == 0 and validate["validator"]["warnings"] == 0
    assert Avatar.objects.filter(owner=studio_user).count() == 2  # a new version; the first stays


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"params": {"hair_style": "mohawk"}}, "hair_style"),
        ({"params": {"hair_color": "red"}}, "hair_color"),
        ({"params": {"heads": 9}}, "heads"),
        ({"params": {"outfit": "armour"}}, "outfit"),
        ({"params": {"wings": True}}, "wings"),
        ({"params": {}}, "params"),
        ({"nothing": 1}, "params"),
    ],
    ids=["style", "colour", "heads", "outfit", "unknown", "empty", "missing"],
)
def test_bad_parameters_get_the_error_family(client, built, payload, field):
    response = client.put(f"/api/generate/{built.id}/params", payload, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == "invalid"
    details = body["details"].get("params", body["details"])
    assert field in details or field == "params", body
    assert GenerationJob.objects.count() == 1  # nothing was started


def test_another_users_job_is_404_before_the_body_is_read(built, make_user):
    other = APIClient()
    other.force_authenticate(make_user("other@example.com", plan="studio"))
    assert other.get(f"/api/generate/{built.id}/params").status_code == 404
    response = other.put(f"/api/generate/{built.id}/params", {"params": {"hair_style": "mohawk"}}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_params_wait_for_the_build(client, studio_user, face_jpeg):
    job = create_job(studio_user, face_jpeg)  # queued, not run
    response = client.get(f"/api/generate/{job.id}/params")
    assert response.status_code == 409 and response.json()["code"] == "params_not_ready"
    assert client.put(f"/api/generate/{job.id}/params", {"params": {"glasses": True}}, format="json").json()["code"] == "params_not_ready"


def test_preview_answers_a_vrm_with_the_changes_and_stores_nothing(client, built, studio_user):
    from generation.chibi.vrm import read_glb_json

    response = client.post(f"/api/generate/{built.id}/params/preview", {"params": {"hair_style": "ponytail", "eye_color": "#2060d0"}}, format="json")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "model/gltf-binary" and response["Cache-Control"] == "no-store"
    gltf = read_glb_json(response.content)
    assert len(gltf["extensions"]["VRMC_springBone"]["springs"]) == 3  # ponytail: two side locks and the tail
    assert gltf["extensions"]["VRMC_vrm"]["meta"]["authors"] == [studio_user.name]
    assert GenerationJob.objects.count() == 1 and Avatar.objects.filter(owner=studio_user).count() == 1
    # an empty change previews the avatar as built
    assert client.post(f"/api/generate/{built.id}/params/preview", {"params": {}}, format="json").status_code == 200
    bad = client.post(f"/api/generate/{built.id}/params/preview", {"params": {"eye_shape": "square"}}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


def test_preview_of_another_users_job_is_404(built, make_user):
    other = APIClient()
    other.force_authenticate(make_user("other2@example.com", plan="studio"))
    response = other.post(f"/api/generate/{built.id}/params/preview", {"params": {"eye_shape": "square"}}, format="json")
    assert response.status_code == 404
