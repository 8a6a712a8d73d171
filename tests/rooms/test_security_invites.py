"""Guest invites against a hostile page: no cross-site redeeming into a visitor's browser, and
a redeemed seat never rides on a session id that existed before."""
from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from rooms.models import RoomInvite
from rooms.selectors import GUEST_SESSION_KEY
from rooms.services import create_invite, create_room

pytestmark = pytest.mark.django_db


def test_redeem_api_refuses_form_posts(user):
    """A cross-site <form> can send urlencoded, multipart or text/plain bodies, never JSON."""
    room = create_room(owner=user)
    _invite, token = create_invite(room=room, user=user)
    browser = Client()
    for content_type, body in (
        ("application/x-www-form-urlencoded", f"token={token}&name=Victim"),
        ("text/plain", f'{{"token": "{token}", "name": "Victim"}}'),
    ):
        response = browser.post("/api/rooms/invites/redeem", data=body, content_type=content_type)
        assert response.status_code == 415, (content_type, response.content)
    assert RoomInvite.objects.get().used_at is None
    assert GUEST_SESSION_KEY not in browser.session


def test_redeem_api_gives_the_guest_a_new_session_id(user):
    room = create_room(owner=user)
    _invite, token = create_invite(room=room, user=user)
    guest = Client()
    session = guest.session
    session["planted"] = "by someone else"
    session.save()
    planted = session.session_key
    guest.cookies[settings.SESSION_COOKIE_NAME] = planted
    response = guest.post("/api/rooms/invites/redeem", {"token": token, "name": "Gus"}, content_type="application/json")
    assert response.status_code == 200
    assert guest.cookies[settings.SESSION_COOKIE_NAME].value != planted
    assert guest.session[GUEST_SESSION_KEY][room.code]["name"] == "Gus"


def test_redeem_page_gives_the_guest_a_new_session_id(user):
    room = create_room(owner=user)
    _invite, token = create_invite(room=room, user=user)
    guest = Client()
    guest.get(reverse("room_invite", args=[token]))
    session = guest.session
    session["x"] = 1
    session.save()
    before = session.session_key
    guest.cookies[settings.SESSION_COOKIE_NAME] = before
    response = guest.post(reverse("room_invite", args=[token]), {"name": "Gina"})
    assert response.status_code == 302
    assert guest.cookies[settings.SESSION_COOKIE_NAME].value != before
    assert guest.get(reverse("room_call", args=[room.code])).status_code == 200
