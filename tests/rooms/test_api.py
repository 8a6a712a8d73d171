"""Rooms REST API: create, list, get, close, invite, redeem, ICE servers, practice partner."""
from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from rooms import practice, state
from rooms.models import Room, RoomInvite
from rooms.selectors import GUEST_SESSION_KEY
from rooms.services import MAX_OPEN_ROOMS_PER_USER, create_invite, create_room

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(user):
    return create_room(owner=user, title="Standup")


@pytest.fixture
def other_client(other_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(other_user)
    return client


@pytest.fixture
def fake_spawn(monkeypatch):
    calls = []
    monkeypatch.setattr(practice, "spawn", lambda **kwargs: calls.append(kwargs))
    return calls


def test_create_room(api_client, user):
    response = api_client.post("/api/rooms/", {"title": "Friday <b>call</b>"}, format="json")
    assert response.status_code == 201
    body = response.json()
    room = Room.objects.get(code=body["code"])
    assert room.owner == user and room.title == "Friday <b>call</b>"
    assert body["ws_path"] == f"/ws/rooms/{room.code}/" and body["is_owner"] is True
    assert body["url"].endswith(f"/rooms/{room.code}/") and body["participants"] == []
    assert len(room.code) == 10 and body["display_code"].count("-") == 2
    assert (room.expires_at - room.created_at).total_seconds() == 24 * 3600


def test_create_room_needs_auth(anon_api_client):
    response = anon_api_client.post("/api/rooms/", {}, format="json")
    assert response.status_code in (401, 403) and response.json()["code"] == "not_authenticated"
    assert Room.objects.count() == 0


def test_open_rooms_are_capped(api_client, user):
    for _ in range(MAX_OPEN_ROOMS_PER_USER):
        create_room(owner=user)
    response = api_client.post("/api/rooms/", {}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "too_many_rooms"
    assert Room.objects.filter(owner=user).count() == MAX_OPEN_ROOMS_PER_USER


def test_list_shows_only_my_open_rooms(api_client, user, other_user):
    mine = create_room(owner=user)
    closed = create_room(owner=user)
    closed.closed_at = timezone.now()
    closed.save()
    create_room(owner=other_user)
    assert [r["code"] for r in api_client.get("/api/rooms/").json()] == [mine.code]


def test_get_room_by_code_with_participants(other_client, room):
    response = other_client.get(f"/api/rooms/{room.code}/")
    assert response.status_code == 200
    assert response.json()["is_owner"] is False and response.json()["owner"] == {"name": "alice"}
    assert other_client.get("/api/rooms/zzzzzzzzzz/").json()["code"] == "room_not_found"


def test_close_room_owner_only(api_client, other_client, room):
    response = other_client.post(f"/api/rooms/{room.code}/close")
    assert response.status_code == 403 and response.json()["code"] == "not_room_owner"
    room.refresh_from_db()
    assert room.closed_at is None
    response = api_client.post(f"/api/rooms/{room.code}/close")
    assert response.status_code == 200 and response.json()["is_open"] is False
    room.refresh_from_db()
    assert room.closed_at is not None


def test_invite_owner_only_and_open_rooms_only(api_client, other_client, room):
    response = other_client.post(f"/api/rooms/{room.code}/invites")
    assert response.status_code == 403 and RoomInvite.objects.count() == 0
    response = api_client.post(f"/api/rooms/{room.code}/invites")
    assert response.status_code == 201
    body = response.json()
    assert body["url"].endswith(f"/rooms/invite/{body['token']}/")
    assert RoomInvite.objects.get().used_at is None
    api_client.post(f"/api/rooms/{room.code}/close")
    response = api_client.post(f"/api/rooms/{room.code}/invites")
    assert response.status_code == 410 and response.json()["code"] == "room_closed"


def test_redeem_invite_once(user, room):
    _invite, token = create_invite(room=room, user=user)
    guest = APIClient()
    response = guest.post("/api/rooms/invites/redeem", {"token": token, "name": "  Visiting   Vera "}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["room"] == room.code and response.json()["guest"] == {"name": "Visiting Vera"}
    session = guest.session
    assert session[GUEST_SESSION_KEY][room.code]["name"] == "Visiting Vera"
    assert RoomInvite.objects.get().used_at is not None

    again = APIClient().post("/api/rooms/invites/redeem", {"token": token, "name": "Eve"}, format="json")
    assert again.status_code == 400 and again.json()["code"] == "invite_invalid"


@pytest.mark.parametrize(
    ("token", "name", "code"),
    [("forged:token", "Eve", "invite_invalid"), (None, "   ", "guest_name_required"), (None, "\x07\u202e\u2066", "guest_name_required")],
)
def test_redeem_refusals_leave_the_invite_unused(user, room, token, name, code):
    _invite, real = create_invite(room=room, user=user)
    response = APIClient().post("/api/rooms/invites/redeem", {"token": token or real, "name": name}, format="json")
    assert response.status_code == 400 and response.json()["code"] == code
    assert RoomInvite.objects.get().used_at is None


def test_expired_invite_is_refused(user, room):
    invite, token = create_invite(room=room, user=user)
    RoomInvite.objects.filter(pk=invite.pk).update(expires_at=timezone.now())
    response = APIClient().post("/api/rooms/invites/redeem", {"token": token, "name": "Late"}, format="json")
    assert response.json()["code"] == "invite_invalid"


def test_ice_servers_for_users_and_guests(settings, api_client, user, room):
    settings.STUN_URLS = ["stun:stun.example.org:3478"]
    settings.TURN_URLS = ["turn:turn.example.org:3478"]
    settings.TURN_SECRET = "topsecret"
    settings.TURN_TTL = 600
    servers = api_client.get(f"/api/rooms/{room.code}/ice-servers").json()
    turn = servers[1]
    expiry, subject = turn["username"].split(":")
    assert subject == str(user.pk) and int(expiry) - timezone.now().timestamp() == pytest.approx(600, abs=5)
    expected = base64.b64encode(hmac.new(b"topsecret", turn["username"].encode(), hashlib.sha1).digest()).decode()
    assert turn["credential"] == expected

    _invite, token = create_invite(room=room, user=user)
    guest = APIClient()
    guest.post("/api/rooms/invites/redeem", {"token": token, "name": "Gus"}, format="json")
    guest_turn = guest.get(f"/api/rooms/{room.code}/ice-servers").json()[1]
    assert guest_turn["username"].split(":")[1].startswith("guest-")
    stranger = APIClient().get(f"/api/rooms/{room.code}/ice-servers")
    assert stranger.status_code == 401 and stranger.json()["code"] == "not_authenticated"


def test_no_ice_servers_configured_means_an_empty_list(api_client, room):
    assert api_client.get(f"/api/rooms/{room.code}/ice-servers").json() == []


def test_practice_partner_starts_once_per_room(api_client, room, fake_spawn):
    response = api_client.post(f"/api/rooms/{room.code}/practice")
    assert response.status_code == 202
    assert len(fake_spawn) == 1 and fake_spawn[0]["base_url"] == "http://testserver/"
    invite = RoomInvite.objects.get(room=room, for_practice=True)
    assert invite.used_at is None and (invite.expires_at - timezone.now()).total_seconds() <= 120
    assert cache.get(state.practice_key(room.code)) is not None
    again = api_client.post(f"/api/rooms/{room.code}/practice")
    assert again.status_code == 409 and again.json()["code"] == "practice_running"
    assert len(fake_spawn) == 1


def test_practice_only_for_participants(anon_api_client, room, fake_spawn):
    response = anon_api_client.post(f"/api/rooms/{room.code}/practice")
    assert response.status_code == 401 and fake_spawn == []
    assert cache.get(state.practice_key(room.code)) is None


def test_practice_refused_when_the_room_is_full(api_client, room, fake_spawn):
    for i in (998, 999):
        async_to_sync(state.claim_seat)(code=room.code, identity=f"u:{i}", name="x", role="member", channel=f"c{i}")
    response = api_client.post(f"/api/rooms/{room.code}/practice")
    assert response.status_code == 409 and response.json()["code"] == "room_full" and fake_spawn == []


def test_practice_guest_needs_csrf(user, room, fake_spawn):
    _invite, token = create_invite(room=room, user=user)
    guest = APIClient(enforce_csrf_checks=True)
    guest.post("/api/rooms/invites/redeem", {"token": token, "name": "Gus"}, format="json")
    response = guest.post(f"/api/rooms/{room.code}/practice")
    assert response.status_code == 403 and fake_spawn == []


def test_practice_spawn_failure_frees_the_slot(api_client, room, monkeypatch):
    def broken(**kwargs):
        raise OSError("no such file")

    monkeypatch.setattr(practice, "spawn", broken)
    response = api_client.post(f"/api/rooms/{room.code}/practice")
    assert response.status_code == 503 and response.json()["code"] == "practice_unavailable"
    assert cache.get(state.practice_key(room.code)) is None


def test_practice_takes_the_seat_held_for_a_dropped_participant(api_client, user, room, fake_spawn):
    # The owner is in the call; the other participant's socket dropped and its seat is held for
    # the grace period. Asking for the practice partner frees that seat for it (instead of the
    # partner being refused as room_full and leaving at once).
    mine = async_to_sync(state.claim_seat)(code=room.code, identity=f"u:{user.pk}", name="o", role="owner", channel="c1")
    held = async_to_sync(state.claim_seat)(code=room.code, identity="u:999", name="x", role="member", channel="c2")
    async_to_sync(state.release_seat)(code=room.code, peer_id=held.seat.peer_id, channel="c2", hangup=False)
    response = api_client.post(f"/api/rooms/{room.code}/practice")
    assert response.status_code == 202 and len(fake_spawn) == 1
    seats = state.get_seats_sync(room.code)
    assert seats[mine.seat_index].peer_id == mine.seat.peer_id and seats[held.seat_index] is None


def test_practice_is_refused_while_the_other_participant_is_connected(api_client, user, room, fake_spawn):
    async_to_sync(state.claim_seat)(code=room.code, identity=f"u:{user.pk}", name="o", role="owner", channel="c1")
    other = async_to_sync(state.claim_seat)(code=room.code, identity="u:999", name="x", role="member", channel="c2")
    response = api_client.post(f"/api/rooms/{room.code}/practice")
    # No seat for the partner: refused up front, not started only to be turned away at the door.
    assert response.status_code == 409 and response.json()["code"] == "room_full" and fake_spawn == []
    assert state.get_seats_sync(room.code)[other.seat_index].connected
    assert cache.get(state.practice_key(room.code)) is None
