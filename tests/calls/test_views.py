"""The character page's Call button and the page POST behind it."""
from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from rooms.models import Room

pytestmark = pytest.mark.django_db


def test_the_character_page_offers_a_call_to_signed_in_users(client, user, make_character):
    mine = make_character(owner=user)
    client.force_login(user)
    body = client.get(f"/characters/{mine.pk}/").content.decode()
    assert f'action="/calls/characters/{mine.pk}/"' in body and "data-character-call" in body
    client.logout()
    mine.visibility = "public"
    mine.save()
    assert "data-character-call" not in client.get(f"/characters/{mine.pk}/").content.decode()


def test_calling_another_users_private_character_is_a_404(client, user, other_user, make_character):
    theirs = make_character(owner=other_user)
    client.force_login(user)
    assert client.post(f"/calls/characters/{theirs.pk}/").status_code == 404
    assert not Room.objects.exists()


def test_no_voice_worker_sends_you_back_to_the_character_with_the_reason(client, user, make_character):
    mine = make_character(owner=user)
    client.force_login(user)
    response = client.post(f"/calls/characters/{mine.pk}/")
    assert response.status_code == 302 and response.url == f"/characters/{mine.pk}/"
    assert [m.message for m in get_messages(response.wsgi_request)] == [
        "No voice worker is free to bring the character to the call. Try again in a moment."]


def test_the_call_needs_a_signed_in_post(client, user, make_character):
    mine = make_character(owner=user)
    response = client.post(f"/calls/characters/{mine.pk}/")
    assert response.status_code == 302 and "/accounts/login" in response.url
    client.force_login(user)
    assert client.get(f"/calls/characters/{mine.pk}/").status_code == 405
