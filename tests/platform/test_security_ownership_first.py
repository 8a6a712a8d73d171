"""Ownership first, everywhere: another user's object answers 404 (or 403 where the object is
visible to them, like a room they may join), before any validation, on pages and the API, and
nothing changes. Walks the object POSTs of every app as a second user."""
from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import create_api_token
from characters.avatars.actors import create_actor
from characters.avatars.services import create_avatar_from_file
from characters.models import Actor, Avatar, Character
from chat.models import Conversation
from chat.services import create_conversation
from generation.models import GenerationJob
from rooms.models import Room, RoomInvite
from rooms.services import create_room
from tests.generation.conftest import create_job, mjpeg_frames

pytestmark = pytest.mark.django_db

FIXTURES = Path(settings.BASE_DIR).parent / "shared" / "fixtures"


@pytest.fixture(autouse=True)
def _no_celery(monkeypatch):
    from generation import services

    monkeypatch.setattr(services, "enqueue", lambda job_id: None)


@pytest.fixture
def owned(user, fake_llm):
    """One of each object, all belonging to `user`."""
    character = Character.objects.create(owner=user, name="Mina", personality="Shy.", visibility="private")
    avatar = create_avatar_from_file(owner=user, file=str(FIXTURES / "vrm" / "sphere.vrm"), filename="sphere.vrm")
    face = mjpeg_frames(FIXTURES / "camera" / "face.mjpeg", limit=1)[0]
    return {
        "conversation": create_conversation(user=user, character_id=character.pk),
        "room": create_room(owner=user, title="Mine"),
        "token": create_api_token(user=user, name="mine")[0],
        "job": create_job(user, face),
        "avatar": avatar,
        "actor": create_actor(user=user, name="Me", avatar_id=avatar.pk),
        "character": character,
    }


def _page_client(other_user) -> Client:
    client = Client()
    client.force_login(other_user)
    return client


def _snapshot(owned) -> dict:
    o = owned
    return {
        "conversation": Conversation.objects.filter(pk=o["conversation"].pk).values("title").get(),
        "room": Room.objects.filter(pk=o["room"].pk).values("closed_at").get(),
        "invites": RoomInvite.objects.filter(room=o["room"]).count(),
        "token": ApiToken.objects.filter(pk=o["token"].pk).values("revoked_at").get(),
        "jobs": list(GenerationJob.objects.values_list("id", "status").order_by("id")),
        "avatar": Avatar.objects.filter(pk=o["avatar"].pk).values("name").get(),
        "actor": Actor.objects.filter(pk=o["actor"].pk).values("name", "avatar_id").get(),
        "characters": Character.objects.count(),
    }


def test_page_posts_on_another_users_objects_are_404_or_403(owned, other_user):
    client = _page_client(other_user)
    before = _snapshot(owned)
    o = owned
    expected = {
        f"/chat/{o['conversation'].pk}/rename/": ({"title": "pwned"}, 404),
        f"/chat/{o['conversation'].pk}/delete/": ({}, 404),
        f"/rooms/{o['room'].code}/close": ({}, 403),  # the room is joinable by code, so visible: 403
        f"/rooms/{o['room'].code}/invite": ({}, 403),
        f"/accounts/tokens/{o['token'].pk}/revoke/": ({}, 404),
        f"/generate/{o['job'].id}/cancel": ({}, 404),
        f"/generate/{o['job'].id}/retry": ({}, 404),
        f"/generate/{o['job'].id}/delete": ({}, 404),
        f"/generate/{o['job'].id}/recrop": ({"x": "0.5", "y": "0.5", "size": "0.5"}, 404),
        f"/generate/{o['job'].id}/actor": ({}, 404),
        f"/avatars/{o['avatar'].pk}/": ({"name": "pwned"}, 404),
        f"/avatars/{o['avatar'].pk}/delete/": ({}, 404),
        f"/avatars/actors/{o['actor'].pk}/": ({"name": "pwned"}, 404),
        f"/avatars/actors/{o['actor'].pk}/delete/": ({}, 404),
        f"/characters/{o['character'].pk}/edit/": ({"name": "pwned"}, 404),
        f"/characters/{o['character'].pk}/delete/": ({}, 404),
        f"/characters/{o['character'].pk}/copy/": ({}, 404),
    }
    got = {path: client.post(path, data).status_code for path, (data, _status) in expected.items()}
    assert got == {path: status for path, (_data, status) in expected.items()}
    assert _snapshot(owned) == before


def test_api_checks_ownership_before_the_body(owned, other_user):
    client = APIClient()
    client.force_authenticate(other_user)
    before = _snapshot(owned)
    o = owned
    bad = {"crop": {"x": "nope"}, "name": ["not", "a", "string"], "avatar": "x", "settings": 5, "is_shared": "maybe"}
    cases = [
        ("post", f"/api/generate/{o['job'].id}/recrop", 404),
        ("patch", f"/api/avatars/{o['avatar'].pk}", 404),
        ("patch", f"/api/actors/{o['actor'].pk}", 404),
        ("patch", f"/api/characters/{o['character'].pk}", 404),
        ("patch", f"/api/chat/conversations/{o['conversation'].pk}", 404),
    ]
    for method, path, status in cases:
        response = getattr(client, method)(path, bad, format="json")
        assert (path, response.status_code) == (path, status), response.content
        assert set(response.json()) == {"code", "message", "details"}
    assert _snapshot(owned) == before
