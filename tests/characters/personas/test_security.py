"""AI characters against a hostile user: a character never becomes a way to reach an avatar
its reader may not see, and only avatars the library shows may be attached."""
from __future__ import annotations

import io
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image
from rest_framework.test import APIClient

from characters.models import Avatar, Character

pytestmark = pytest.mark.django_db

GREEN = (10, 200, 30)


def _avatar(owner, **fields) -> Avatar:
    out = io.BytesIO()
    Image.new("RGB", (24, 24), GREEN).save(out, "WEBP", lossless=True)
    key = default_storage.save("avatars/thumbs/t.webp", ContentFile(out.getvalue()))
    token = uuid.uuid4().hex
    return Avatar.objects.create(owner=owner, name="Vrm", vrm_version="1.0", file_hash=token * 2, file_size=1,
                                 storage_key=token, encryption_key_id="x", performance_rank="good", thumbnail_key=key, **fields)


def _exported_picture(client, character) -> Image.Image:
    response = client.get(f"/api/characters/{character.pk}/export?format=v3&as=png")
    assert response.status_code == 200
    return Image.open(io.BytesIO(response.content)).convert("RGB")


def test_card_png_of_a_public_character_hides_the_owners_private_avatar(api_client, other_user):
    private = _avatar(other_user)
    character = Character.objects.create(owner=other_user, name="Public", visibility="public", avatar=private)
    for client in (api_client, APIClient()):
        picture = _exported_picture(client, character)
        assert picture.size != (24, 24)
        assert picture.getpixel((5, 5)) != GREEN
    # The avatar itself is out of reach for the same reader.
    assert api_client.get(f"/api/avatars/{private.pk}/thumbnail").status_code == 404


def test_card_png_uses_a_shared_avatar_for_everyone(api_client, other_user):
    shared = _avatar(other_user, is_shared=True, redistribution_allowed=True)
    character = Character.objects.create(owner=other_user, name="Public", visibility="public", avatar=shared)
    picture = _exported_picture(api_client, character)
    assert picture.size == (24, 24) and picture.getpixel((5, 5)) == GREEN


def test_an_avatar_the_library_hides_cannot_be_attached(api_client, user, other_user):
    """Shared without a redistribution license is not visible in the library (avatars_visible_to):
    attaching it to a character must fail the same way as a private one."""
    hidden = _avatar(other_user, is_shared=True, redistribution_allowed=False)
    private = _avatar(other_user)
    for avatar in (hidden, private):
        response = api_client.post("/api/characters", {"name": "Thief", "avatar": str(avatar.pk)}, format="json")
        assert response.status_code == 400, response.json()
        assert "avatar" in response.json()["details"]
    assert not Character.objects.filter(owner=user).exists()


def test_character_form_offers_only_visible_avatars(user, other_user):
    from characters.personas.forms import CharacterForm

    own = _avatar(user)
    shared = _avatar(other_user, is_shared=True, redistribution_allowed=True)
    _avatar(other_user, is_shared=True, redistribution_allowed=False)
    _avatar(other_user)
    offered = set(CharacterForm(user=user).fields["avatar"].queryset)
    assert offered == {own, shared}
