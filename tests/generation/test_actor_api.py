"""POST /api/generate/<job_id>/actor (“Use as my avatar”): a new actor, or, when the plan's actor
slots are full, the list of actors to switch and the switch itself."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from characters.avatars.actors import create_actor
from characters.models import Actor

from .conftest import create_job, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished(user, drawing_png):
    made: list = []

    def make():  # each named differently: the same file twice would be the same library avatar
        job = create_job(user, drawing_png, filename="house.png", name=f"House {len(made) + 1}")
        assert run(job) == "succeeded"
        made.append(job)
        return job

    return make


def test_a_free_slot_makes_a_new_actor(api_client, user, finished):
    job = finished()
    response = api_client.post(f"/api/generate/{job.id}/actor", {}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["switched"] is False and body["actor"]["avatar"] == str(job.avatar_id)
    assert Actor.objects.get(owner=user).pk == body["actor"]["id"]


def test_full_slots_list_the_actors_and_a_switch_moves_one_to_the_new_avatar(api_client, user, finished):
    first, second = finished(), finished()
    assert first.avatar_id != second.avatar_id
    mine = create_actor(user=user, name="Me", avatar_id=first.avatar_id, settings_data={"mirror": False})
    refused = api_client.post(f"/api/generate/{second.id}/actor", {}, format="json")
    assert refused.status_code == 403
    error = refused.json()
    assert error["code"] == "actor_slots_exceeded" and error["details"]["allowed"] == 1
    assert error["details"]["actors"] == [{"id": mine.pk, "name": "Me", "avatar_name": first.avatar.name}]

    switched = api_client.post(f"/api/generate/{second.id}/actor", {"replace_actor": mine.pk}, format="json")
    assert switched.status_code == 200, switched.content
    assert switched.json()["switched"] is True and switched.json()["actor"]["id"] == mine.pk
    mine.refresh_from_db()
    assert mine.avatar_id == second.avatar_id and mine.name == "Me" and mine.settings["mirror"] is False
    assert Actor.objects.filter(owner=user).count() == 1


@pytest.mark.parametrize("value", ["x", 0, -3, 2**40], ids=["text", "zero", "negative", "huge"])
def test_a_bad_actor_id_is_refused(api_client, finished, value):
    job = finished()
    response = api_client.post(f"/api/generate/{job.id}/actor", {"replace_actor": value}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_another_users_job_or_actor_is_404_before_validation(api_client, user, other_user, finished):
    from characters.avatars.services import create_avatar_from_file

    from .conftest import FIXTURES

    job = finished()
    mallory = APIClient()
    mallory.force_authenticate(other_user)
    response = mallory.post(f"/api/generate/{job.id}/actor", {"replace_actor": "not a number"}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"  # ownership before validation

    their_avatar = create_avatar_from_file(owner=other_user, file=str(FIXTURES / "vrm" / "sphere.vrm"), filename="sphere.vrm")
    their_actor = create_actor(user=other_user, name="Theirs", avatar_id=their_avatar.pk)
    response = api_client.post(f"/api/generate/{job.id}/actor", {"replace_actor": their_actor.pk}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    their_actor.refresh_from_db()
    assert their_actor.avatar_id == their_avatar.pk


def test_a_job_without_an_avatar_is_409(api_client, user, face_jpeg):
    job = create_job(user, face_jpeg)
    response = api_client.post(f"/api/generate/{job.id}/actor", {}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "avatar_not_ready"
