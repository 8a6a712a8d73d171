"""The practice partner is a child process per room: one account must not be able to start
them without bound (a room each, up to 20 rooms), nor the whole deployment run more than
PRACTICE_MAX_RUNNING at once."""
from __future__ import annotations

import sys
import time

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from rooms import practice, services, state
from rooms.services import create_room

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_one_person_runs_one_practice_partner_at_a_time(api_client, user, fake_spawn):
    first, second = create_room(owner=user), create_room(owner=user)
    assert api_client.post(f"/api/rooms/{first.code}/practice").status_code == 202
    response = api_client.post(f"/api/rooms/{second.code}/practice")
    assert response.status_code == 409
    assert response.json()["code"] == "practice_limit"
    assert len(fake_spawn) == 1
    assert cache.get(state.practice_key(second.code)) is None  # the refused room is not left locked


def test_the_deployment_runs_at_most_practice_max_running(settings, make_user, fake_spawn):
    settings.PRACTICE_MAX_RUNNING = 2
    people = [make_user() for _ in range(3)]
    rooms = [create_room(owner=person) for person in people]
    codes = [_client(p).post(f"/api/rooms/{r.code}/practice").status_code for p, r in zip(people, rooms, strict=True)]
    assert codes == [202, 202, 503]
    assert len(fake_spawn) == 2
    third = rooms[2]
    assert cache.get(state.practice_key(third.code)) is None
    assert cache.get(services._practice_person_key(f"u:{people[2].pk}")) is None


def test_every_slot_is_freed_when_spawning_fails(api_client, user, settings, monkeypatch):
    settings.PRACTICE_MAX_RUNNING = 1

    def broken(**kwargs):
        raise OSError("no such file")

    monkeypatch.setattr(practice, "spawn", broken)
    room = create_room(owner=user)
    assert api_client.post(f"/api/rooms/{room.code}/practice").status_code == 503
    assert cache.get(services._practice_person_key(f"u:{user.pk}")) is None
    assert cache.get(services._practice_slot_key(0)) is None


def test_every_slot_is_freed_when_the_partner_ends(api_client, user, settings, monkeypatch):
    settings.PRACTICE_MAX_RUNNING = 1
    monkeypatch.setattr(practice, "command_argv", lambda **kw: [sys.executable, "-c", "pass"])
    room = create_room(owner=user)
    assert api_client.post(f"/api/rooms/{room.code}/practice").status_code == 202
    keys = [state.practice_key(room.code), services._practice_person_key(f"u:{user.pk}"), services._practice_slot_key(0)]
    deadline = time.monotonic() + 20
    while any(cache.get(k) is not None for k in keys):
        assert time.monotonic() < deadline, [k for k in keys if cache.get(k) is not None]
        time.sleep(0.05)
    # Free again: the same person may start one anew.
    monkeypatch.setattr(practice, "spawn", lambda **kwargs: None)
    assert api_client.post(f"/api/rooms/{create_room(owner=user).code}/practice").status_code == 202
