"""One normalizer for every user-visible name (avatarforge/text.py): bidi controls and control
characters are removed, text is NFC, whitespace is collapsed and trimmed, on every path that
stores a name."""
from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from avatarforge.text import normalize_name
from characters.avatars.services import create_avatar_from_file
from characters.models import Actor, Character
from chat.models import Conversation
from chat.services import create_conversation
from rooms.models import Room
from rooms.services import create_invite

pytestmark = pytest.mark.django_db

# A hostile name: a right-to-left override, an isolate, C0 and C1 controls, a newline and tabs,
# and a decomposed Hangul syllable (NFD) that must come out composed (NFC).
HOSTILE = "  \u202eEve\u2066 \x07the\tgreat\x85\n\u1100\u1161 \u202a "
CLEAN = "Eve the great \uac00"


def test_normalize_name():
    assert normalize_name(HOSTILE) == CLEAN
    assert unicodedata.is_normalized("NFC", normalize_name(HOSTILE))
    assert normalize_name("avatar\u202eexe.vrm") == "avatarexe.vrm"
    assert normalize_name("a \u202e b") == "a b"  # no double space where a control was
    assert normalize_name("\u202e\u2069\x00  ") == "" and normalize_name(None) == ""
    assert normalize_name("abcdef ghi", max_length=7) == "abcdef"  # cut, then no trailing space
    assert normalize_name("Mina 😀 미나") == "Mina 😀 미나"  # visible text is kept as it is


@pytest.fixture
def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_display_name_from_api_profile_form_and_signup(client_for, user, password):
    response = client_for.patch("/api/accounts/me", {"display_name": HOSTILE}, format="json")
    assert response.status_code == 200 and response.json()["display_name"] == CLEAN
    user.refresh_from_db()
    assert user.display_name == CLEAN

    page = Client()
    page.force_login(user)
    page.post("/accounts/profile/", {"display_name": "\u202eform\x07 name"})
    user.refresh_from_db()
    assert user.display_name == "form name"

    Client().post("/accounts/signup/", {"email": "new@example.com", "display_name": HOSTILE,
                                        "password1": password, "password2": password})
    assert User.objects.get(email="new@example.com").display_name == CLEAN


def test_room_title_token_name_and_guest_name(client_for, user):
    response = client_for.post("/api/rooms/", {"title": HOSTILE}, format="json")
    assert response.status_code == 201 and response.json()["title"] == CLEAN
    room = Room.objects.get()
    assert room.title == CLEAN

    response = client_for.post("/api/accounts/tokens", {"name": HOSTILE}, format="json")
    assert response.status_code == 201
    assert ApiToken.objects.get().name == CLEAN

    _invite, token = create_invite(room=room, user=user)
    response = APIClient().post("/api/rooms/invites/redeem", {"token": token, "name": HOSTILE}, format="json")
    assert response.status_code == 200 and response.json()["guest"]["name"] == CLEAN


def test_conversation_avatar_actor_and_character_names(client_for, user, fake_llm):
    response = client_for.post("/api/characters", {"name": HOSTILE, "personality": "Shy."}, format="json")
    assert response.status_code == 201, response.content
    character = Character.objects.get()
    assert character.name == CLEAN

    conversation = create_conversation(user=user, character_id=character.pk, user_name=HOSTILE)
    assert conversation.user_name == CLEAN
    response = client_for.patch(f"/api/chat/conversations/{conversation.pk}", {"title": HOSTILE}, format="json")
    assert response.status_code == 200, response.content
    assert Conversation.objects.get().title == CLEAN

    sphere = Path(settings.BASE_DIR).parent / "shared" / "fixtures" / "vrm" / "sphere.vrm"
    avatar = create_avatar_from_file(owner=user, file=str(sphere), filename="sphere.vrm", name=HOSTILE)
    assert avatar.name == CLEAN
    response = client_for.post("/api/actors", {"name": HOSTILE, "avatar": str(avatar.pk)}, format="json")
    assert response.status_code == 201, response.content
    assert Actor.objects.get().name == CLEAN
