"""Call resources (TURN credentials, the practice partner) are for the room's participants only:
the owner, a guest holding its invite, or a user holding one of its seats. Another signed-in
user who merely knows the code gets 404, and nothing changes in Redis or the database."""
from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import cache
from rest_framework.test import APIClient

from rooms import services, state
from rooms.models import RoomInvite
from rooms.services import create_room

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _assert_not_found(response) -> None:
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "room_not_found" and set(response.json()) == {"code", "message", "details"}


def test_a_stranger_with_the_code_cannot_start_a_practice_partner(user, other_user, fake_spawn):
    room = create_room(owner=user, title="Mine")
    _assert_not_found(_client(other_user).post(f"/api/rooms/{room.code}/practice"))
    assert fake_spawn == []
    assert not RoomInvite.objects.filter(room=room).exists()
    assert cache.get(state.practice_key(room.code)) is None
    assert cache.get(services._practice_person_key(f"u:{other_user.pk}")) is None
    assert state.get_seats_sync(room.code) == [None, None]
    # The owner still can: the stranger took nothing.
    assert _client(user).post(f"/api/rooms/{room.code}/practice").status_code == 202
    assert len(fake_spawn) == 1


def test_a_stranger_with_the_code_gets_no_ice_servers(user, other_user, settings):
    settings.TURN_URLS = ["turn:turn.example.com:3478"]
    settings.TURN_SECRET = "s3cret"
    room = create_room(owner=user, title="Mine")
    _assert_not_found(_client(other_user).get(f"/api/rooms/{room.code}/ice-servers"))
    assert _client(user).get(f"/api/rooms/{room.code}/ice-servers").status_code == 200


def test_a_user_holding_a_seat_is_a_participant(user, other_user, fake_spawn):
    room = create_room(owner=user, title="Mine")
    async_to_sync(state.claim_seat)(
        code=room.code, identity=f"u:{other_user.pk}", name=other_user.name, role="member", channel="test.chan"
    )
    member = _client(other_user)
    assert member.get(f"/api/rooms/{room.code}/ice-servers").status_code == 200
    assert member.post(f"/api/rooms/{room.code}/practice").status_code == 202
    assert len(fake_spawn) == 1
