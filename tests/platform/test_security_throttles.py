"""Pages that do the same costly work as throttled API endpoints take from the same rate
bucket: the form fallbacks are no way around the API's limits (and the token API's scope is
really applied)."""
from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests.characters.avatars.support import minimal_gltf

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"user": "1000/min", "anon": "1000/min", "auth": "2/min", "upload": "2/hour"},
    )


@pytest.fixture
def page(client, user, password):
    assert client.login(email=user.email, password=password)
    return client


def _bad_file() -> SimpleUploadedFile:
    return SimpleUploadedFile("notes.txt", b"not an avatar", content_type="text/plain")


def test_avatar_form_upload_shares_the_api_upload_rate(page, user, low_rates):
    from characters.models import Avatar

    for _ in range(2):
        page.post("/avatars/upload/", {"file": _bad_file()})
    response = page.post("/avatars/upload/", {"file": SimpleUploadedFile("ok.glb", minimal_gltf())}, follow=True)
    assert not Avatar.objects.filter(owner=user).exists()
    assert "Too many requests" in response.content.decode()
    # Same bucket as the API: the API is refused now too.
    api = APIClient()
    api.force_authenticate(user)
    refused = api.post("/api/avatars", {"file": SimpleUploadedFile("ok.glb", minimal_gltf())}, format="multipart")
    assert refused.status_code == 429


def test_photo_form_upload_shares_the_api_upload_rate(page, user, low_rates):
    from generation.models import GenerationJob

    for _ in range(2):
        page.post("/generate/", {"image": SimpleUploadedFile("x.jpg", b"nope", content_type="image/jpeg")})
    response = page.post("/generate/", {"image": SimpleUploadedFile("x.jpg", b"nope", content_type="image/jpeg")})
    assert response.status_code == 429
    assert not GenerationJob.objects.filter(owner=user).exists()


def _card() -> bytes:
    return json.dumps({"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Rin", "description": "d"}}).encode()


def test_card_import_page_and_api_are_rate_limited(page, user, low_rates):
    from characters.models import Character

    for _ in range(2):
        page.post("/characters/import/", {"file": SimpleUploadedFile("c.json", b"{", content_type="application/json"),
                                          "visibility": "private"})
    response = page.post("/characters/import/", {"file": SimpleUploadedFile("c.json", _card(), content_type="application/json"),
                                                 "visibility": "private"})
    assert response.status_code == 200  # the form again, with the reason
    assert "rate_limited" in response.content.decode()
    api = APIClient()
    api.force_authenticate(user)
    refused = api.post("/api/characters/import", data=_card(), content_type="application/json")
    assert refused.status_code == 429
    assert not Character.objects.filter(owner=user).exists()


def test_card_import_api_has_the_upload_rate(user, low_rates):
    from characters.models import Character

    api = APIClient()
    api.force_authenticate(user)
    codes = [api.post("/api/characters/import", data=_card(), content_type="application/json").status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    assert Character.objects.filter(owner=user).count() == 2


def test_invite_page_shares_the_invite_api_rate(page, user, low_rates):
    from rooms.models import RoomInvite
    from rooms.services import create_room

    room = create_room(owner=user)
    for _ in range(3):
        page.post(f"/rooms/{room.code}/invite")
    assert RoomInvite.objects.filter(room=room).count() == 2


def test_token_api_scope_is_applied(user, low_rates):
    from accounts.models import ApiToken

    api = APIClient()
    api.force_authenticate(user)
    codes = [api.post("/api/accounts/tokens", {"name": f"t{i}"}, format="json").status_code for i in range(3)]
    assert codes == [201, 201, 429]
    assert ApiToken.objects.filter(user=user).count() == 2


def test_token_page_shares_the_token_api_rate(page, user, low_rates):
    from accounts.models import ApiToken

    for i in range(3):
        page.post("/accounts/tokens/", {"name": f"t{i}"})
    assert ApiToken.objects.filter(user=user).count() == 2


def test_room_creation_is_rate_limited_on_the_api_and_the_page(page, user, low_rates):
    from rooms.models import Room

    api = APIClient()
    api.force_authenticate(user)
    assert api.post("/api/rooms/", {"title": "a"}, format="json").status_code == 201
    page.post("/rooms/new", {"title": "b"})
    refused = api.post("/api/rooms/", {"title": "c"}, format="json")
    assert refused.status_code == 429
    page.post("/rooms/new", {"title": "d"})
    assert sorted(Room.objects.filter(owner=user).values_list("title", flat=True)) == ["a", "b"]
