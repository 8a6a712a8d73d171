"""Rooms pages: home, create, join by code, lobby, guest invites, the call page."""
from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from rooms.models import Room, RoomInvite
from rooms.selectors import GUEST_SESSION_KEY
from rooms.services import close_room, create_invite, create_room

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def test_home_for_visitors_and_users(logged_in, user):
    anon = Client().get(reverse("room_home"))
    assert anon.status_code == 200 and 'action="/rooms/new"' not in anon.content.decode()
    create_room(owner=user, title="<script>alert(1)</script>")
    page = logged_in.get(reverse("room_home")).content.decode()
    assert 'action="/rooms/new"' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page


def test_create_redirects_to_the_lobby(logged_in, user):
    response = logged_in.post(reverse("room_create"), {"title": "Chat"})
    room = Room.objects.get(owner=user)
    assert response.status_code == 302 and response["Location"] == reverse("room_lobby", args=[room.code])


def test_create_needs_login_and_post(logged_in):
    assert Client().post(reverse("room_create")).status_code == 302
    assert logged_in.get(reverse("room_create")).status_code == 405
    assert Room.objects.count() == 0


def test_join_by_code_accepts_what_people_type(logged_in, user):
    room = create_room(owner=user)
    typed = room.display_code.upper().replace("-", " - ")
    response = logged_in.get(reverse("room_join"), {"code": typed})
    assert response["Location"] == reverse("room_lobby", args=[room.code])
    missing = logged_in.get(reverse("room_join"), {"code": "nope"})
    assert missing["Location"] == reverse("room_home")


def test_lobby_shows_code_invite_and_who_is_waiting(logged_in, user):
    room = create_room(owner=user)
    page = logged_in.get(reverse("room_lobby", args=[room.code])).content.decode()
    assert room.display_code in page and "Nobody is in the call yet." in page
    assert reverse("room_invite_create", args=[room.code]) in page

    response = logged_in.post(reverse("room_invite_create", args=[room.code]))
    assert response.status_code == 302 and RoomInvite.objects.filter(room=room).count() == 1
    page = logged_in.get(reverse("room_lobby", args=[room.code])).content.decode()
    assert "/rooms/invite/" in page
    again = logged_in.get(reverse("room_lobby", args=[room.code])).content.decode()
    assert "/rooms/invite/" not in again  # the secret link is shown once


def test_lobby_and_call_need_a_participant(client, user):
    room = create_room(owner=user)
    for name in ("room_lobby", "room_call"):
        response = client.get(reverse(name, args=[room.code]))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.get(reverse("room_status", args=[room.code])).status_code == 401
    assert client.get(reverse("room_lobby", args=["unknowncode"])).status_code == 404


def test_non_owner_cannot_invite_or_close(client, other_user, user):
    room = create_room(owner=user)
    client.force_login(other_user)
    page = client.get(reverse("room_lobby", args=[room.code])).content.decode()
    assert reverse("room_invite_create", args=[room.code]) not in page
    client.post(reverse("room_invite_create", args=[room.code]))
    client.post(reverse("room_close", args=[room.code]))
    room.refresh_from_db()
    assert room.closed_at is None and RoomInvite.objects.count() == 0


def test_owner_closes_the_room(logged_in, user):
    room = create_room(owner=user)
    response = logged_in.post(reverse("room_close", args=[room.code]))
    assert response["Location"] == reverse("room_home")
    room.refresh_from_db()
    assert room.closed_at is not None
    assert logged_in.get(reverse("room_call", args=[room.code]))["Location"] == reverse("room_home")


def test_guest_invite_flow(client, user):
    room = create_room(owner=user)
    _invite, token = create_invite(room=room, user=user)
    url = reverse("room_invite", args=[token])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"name": ""})
    assert bad.status_code == 400 and RoomInvite.objects.get().used_at is None
    response = client.post(url, {"name": "Gina"})
    assert response["Location"] == reverse("room_lobby", args=[room.code])
    assert client.session[GUEST_SESSION_KEY][room.code]["name"] == "Gina"

    call = client.get(reverse("room_call", args=[room.code]))
    assert call.status_code == 200
    assert call.context["guest_name"] == "Gina" and call.context["is_owner"] is False
    status = client.get(reverse("room_status", args=[room.code])).json()
    assert status == {"is_open": True, "participants": []}

    reused = client.post(url, {"name": "Gina again"})
    assert reused.status_code == 400 and "not valid" in reused.content.decode()


@pytest.mark.parametrize("how", ["used", "expired", "room closed", "forged"])
def test_an_unusable_invite_says_so_at_once_without_the_form(client, user, how):
    from django.utils import timezone

    room = create_room(owner=user)
    invite, token = create_invite(room=room, user=user)
    if how == "used":
        RoomInvite.objects.filter(pk=invite.pk).update(used_at=timezone.now())
    elif how == "expired":
        RoomInvite.objects.filter(pk=invite.pk).update(expires_at=timezone.now())
    elif how == "room closed":
        close_room(room_id=room.pk, user=user)
    else:
        token = token[:-4] + "abcd"
    page = client.get(reverse("room_invite", args=[token]))
    body = page.content.decode()
    assert page.status_code in (400, 410)
    assert "data-invite-unusable" in body and 'name="name"' not in body and "<form method=\"post\">" not in body


def test_call_page_context(logged_in, user, settings):
    settings.STUN_URLS = ["stun:stun.example.org:3478"]
    room = create_room(owner=user)
    response = logged_in.get(reverse("room_call", args=[room.code]))
    assert response.status_code == 200
    ctx = response.context
    assert ctx["room"] == room and ctx["ws_path"] == f"/ws/rooms/{room.code}/"
    assert ctx["ice_servers"] == [{"urls": ["stun:stun.example.org:3478"]}]
    assert ctx["is_owner"] is True and ctx["guest_name"] is None
    assert ctx["practice_url"] == f"/api/rooms/{room.code}/practice"


def test_call_page_carries_the_license_card_words_in_its_own_language(logged_in, user):
    """The other person's card is shown in this page's language from row keys and codes."""
    room = create_room(owner=user)
    response = logged_in.get(reverse("room_call", args=[room.code]), HTTP_ACCEPT_LANGUAGE="ko")
    text = json.loads(response.content.decode().split('id="license-text" type="application/json">')[1].split("</script>")[0])
    assert text["rows"]["commercialUsage"]["label"] == "상업적 이용"
    assert set(text["rows"]["commercialUsage"]["values"]) == {"corporation", "personalProfit", "personalNonProfit", "unknown"}
    assert set(text["rows"]["violentUsage"]["values"]) == {"true", "false", "unknown"}
    assert "{value}" in text["defaulted"] and "{value}" != text["defaulted"]


def test_status_reports_closed_rooms(logged_in, user):
    room = create_room(owner=user)
    close_room(room_id=room.pk, user=user)
    assert json.loads(logged_in.get(reverse("room_status", args=[room.code])).content)["is_open"] is False
