"""Live-mode API: ownership first, validation, controls announced on the channel layer."""
from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from characters.models import Character
from live import events
from live.models import LiveSession, ViewerMemory


@pytest.fixture
def character(user):
    return Character.objects.create(owner=user, name="Miro")


@pytest.fixture
def session(user, character):
    return LiveSession.objects.create(owner=user, character=character, title="My stream")


def test_create_list_and_settings_validation(api_client, character):
    bad = api_client.post("/api/live/sessions", {"title": "S", "character": str(character.pk),
                                                  "settings": {"batch_size": 0, "nope": 1}}, format="json")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_live_settings"
    assert set(bad.json()["details"]) == {"batch_size", "settings"}
    assert LiveSession.objects.count() == 0
    ok = api_client.post("/api/live/sessions", {"title": "S", "character": str(character.pk),
                                                 "settings": {"batch_size": 2}}, format="json")
    assert ok.status_code == 201, ok.json()
    body = ok.json()
    assert body["effective_settings"]["batch_size"] == 2 and body["effective_settings"]["min_length"] == 2
    assert body["overlay_path"] == f"/live/overlay/{body['overlay_key']}/"
    assert [s["id"] for s in api_client.get("/api/live/sessions").json()] == [body["id"]]


def test_foreign_character_refused(api_client, other_user):
    foreign = Character.objects.create(owner=other_user, name="Theirs")
    response = api_client.post("/api/live/sessions", {"title": "S", "character": str(foreign.pk)}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_character"


def test_a_session_with_a_character_hidden_since_does_not_start(api_client, user, other_user, make_user):
    from characters.personas import moderation

    theirs = Character.objects.create(owner=other_user, name="Theirs", visibility="public")
    session = LiveSession.objects.create(owner=user, character=theirs, title="Borrowed")
    admin = make_user("mod@example.com", is_staff=True, is_superuser=True)
    moderation.set_hidden(admin=admin, character_ids=[theirs.pk], hidden=True)
    response = api_client.post(f"/api/live/sessions/{session.pk}/start")
    assert response.status_code == 400 and response.json()["code"] == "invalid_character"
    session.refresh_from_db()
    assert session.status == "stopped"


@pytest.mark.django_db(transaction=True)  # the stop is announced after the hiding commits
def test_hiding_a_character_stops_its_running_sessions_and_tells_the_worker(api_client, user, other_user, make_user):
    from characters.personas import moderation

    theirs = Character.objects.create(owner=other_user, name="Theirs", visibility="public")
    running = LiveSession.objects.create(owner=user, character=theirs, title="Borrowed")
    other = LiveSession.objects.create(owner=user, character=Character.objects.create(owner=user, name="Mine"), title="Mine")
    for s in (running, other):
        assert api_client.post(f"/api/live/sessions/{s.pk}/start").json()["status"] == "running"
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(events.control_group(running.pk), channel)
    admin = make_user("mod@example.com", is_staff=True, is_superuser=True)
    moderation.set_hidden(admin=admin, character_ids=[theirs.pk], hidden=True)
    assert _receiver(layer, channel)()["payload"] == {"type": "status", "status": "stopped",
                                                       "detail": "stopped: moderators hid this character"}
    running.refresh_from_db()
    other.refresh_from_db()
    assert (running.status, running.status_detail) == ("stopped", "stopped: moderators hid this character")
    assert other.status == "running"  # only the hidden character's sessions


def test_foreign_session_is_404_before_validation(make_user, session):
    from rest_framework.test import APIClient

    intruder = APIClient()
    intruder.force_authenticate(make_user("eve@example.com"))
    url = f"/api/live/sessions/{session.pk}"
    assert intruder.get(url).status_code == 404
    assert intruder.patch(url, {"settings": {"batch_size": "bad"}}, format="json").status_code == 404
    assert intruder.post(url + "/say", {"text": ""}, format="json").status_code == 404
    assert intruder.post(url + "/start").status_code == 404
    assert intruder.delete(url).status_code == 404
    session.refresh_from_db()
    assert session.status == "stopped" and session.title == "My stream"


def _receiver(layer, channel):
    async def receive():
        return await asyncio.wait_for(layer.receive(channel), 5)
    return async_to_sync(receive)


@pytest.mark.django_db(transaction=True)  # controls are announced after commit
def test_start_stop_and_controls_reach_the_worker_group(api_client, session):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(events.control_group(session.pk), channel)
    receive = _receiver(layer, channel)
    url = f"/api/live/sessions/{session.pk}"
    assert api_client.post(url + "/say", {"text": "hi"}, format="json").json()["code"] == "live_session_not_running"
    assert api_client.post(url + "/start").json()["status"] == "running"
    assert receive()["payload"]["type"] == "status"
    assert api_client.post(url + "/say", {"text": "Hello chat!"}, format="json").status_code == 202
    assert receive()["payload"] == {"type": "say", "text": "Hello chat!"}
    assert api_client.post(url + "/emergency-stop").json()["ai_paused"] is True
    kinds = [receive()["payload"]["type"] for _ in range(2)]
    assert kinds == ["pause", "emergency_stop"]
    assert api_client.delete(url).json()["code"] == "live_session_running"
    assert api_client.post(url + "/stop").json()["status"] == "stopped"
    assert api_client.delete(url).status_code == 204


def test_rotating_the_overlay_key_revokes_the_old_one(api_client, anon_api_client, session):
    old = session.overlay_key
    assert anon_api_client.get(f"/api/live/overlay/{old}/state").json()["character_name"] == "Miro"
    new = api_client.post(f"/api/live/sessions/{session.pk}/overlay/rotate-key").json()["overlay_key"]
    assert new != old
    assert anon_api_client.get(f"/api/live/overlay/{old}/state").status_code == 404
    assert anon_api_client.get(f"/api/live/overlay/{new}/state").status_code == 200


def test_viewer_memory_is_kept_only_with_memory_on_and_wipeable(api_client, session, user):
    from live import services

    services.remember_viewer(session=session, platform="chzzk", viewer_id="v1", nickname="Mina", text="I like cats")
    services.remember_viewer(session=session, platform="chzzk", viewer_id="v1", nickname="Mina", text="and dogs",
                             donation=500)
    memory = ViewerMemory.objects.get()
    assert (memory.recent, memory.message_count, memory.donated_total) == (["I like cats", "and dogs"], 2, 500)
    listed = api_client.get("/api/live/viewers").json()
    assert [v["nickname"] for v in listed] == ["Mina"]
    assert api_client.delete("/api/live/viewers").status_code == 204
    assert ViewerMemory.objects.count() == 0
    session.settings = {"memory_enabled": False}
    session.save()
    assert services.remember_viewer(session=session, platform="chzzk", viewer_id="v2", nickname="X", text="hi") is None
    assert ViewerMemory.objects.count() == 0
