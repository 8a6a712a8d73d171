"""POST /api/characters/<id>/call: authorization before anything else, no worker -> no_voice_worker
(and nothing left behind), one call per user. The call itself (a worker taking the request) is
tests/calls/test_call_e2e.py."""
from __future__ import annotations

import json
import time

import pytest
from django.core.cache import cache

from calls import dispatch, services
from chat.models import Conversation
from chat.voice import dispatch as voice_dispatch
from rooms.models import Room

pytestmark = pytest.mark.django_db


def url(character) -> str:
    return f"/api/characters/{character.pk}/call"


def fresh_worker_heartbeat(client, worker_id: str = "ghost-worker") -> None:
    """A worker that announced itself but takes nothing (hung, or busy with its own queue)."""
    client.zadd(voice_dispatch.WORKERS, {worker_id: time.time()})


def test_another_users_private_character_is_not_found_even_with_a_worker(api_client, other_user, make_character, _clean_voice_queue):
    fresh_worker_heartbeat(_clean_voice_queue)
    theirs = make_character(owner=other_user, visibility="private")
    response = api_client.post(url(theirs))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not Room.objects.exists() and not Conversation.objects.exists()
    assert _clean_voice_queue.llen(voice_dispatch.REQUESTS) == 0


def test_anonymous_is_refused(anon_api_client, user, make_character):
    response = anon_api_client.post(url(make_character(owner=user)))
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"


def test_unknown_character_id_is_not_found(api_client):
    response = api_client.post("/api/characters/not-a-uuid/call")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_no_voice_worker_alive_answers_503_at_once_and_makes_nothing(api_client, user, make_character, _clean_voice_queue):
    mine = make_character(owner=user)
    response = api_client.post(url(mine))
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "no_voice_worker" and body["message"]
    assert not Room.objects.exists() and not Conversation.objects.exists()
    assert cache.get(services.slot_key(user.pk)) is None


def test_a_worker_that_never_takes_the_request_ends_in_no_voice_worker_and_undoes_everything(
        api_client, user, other_user, make_character, _clean_voice_queue, monkeypatch):
    monkeypatch.setattr(dispatch, "CLAIM_TIMEOUT", 0.5)
    fresh_worker_heartbeat(_clean_voice_queue)
    public = make_character(owner=other_user, visibility="public", name="Public Pia")
    response = api_client.post(url(public))
    assert response.status_code == 503 and response.json()["code"] == "no_voice_worker"
    # The request was withdrawn from the queue: no worker will ever start it later.
    assert _clean_voice_queue.llen(voice_dispatch.REQUESTS) == 0
    # The room made for the call is closed, the slot is free, the character's guest seat is gone.
    room = Room.objects.get()
    assert room.closed_at is not None and room.title == "Public Pia"
    assert cache.get(services.slot_key(user.pk)) is None
    # So the next attempt gets as far again (not character_call_running).
    assert api_client.post(url(public)).json()["code"] == "no_voice_worker"


def test_one_character_call_per_user(api_client, user, make_character, _clean_voice_queue):
    """A call in progress holds the user's slot (here: the slot a running call set); a second
    call, with any character, is refused before a room or a request is made."""
    fresh_worker_heartbeat(_clean_voice_queue)
    cache.set(services.slot_key(user.pk), "abcdefghjk", timeout=60)
    response = api_client.post(url(make_character(owner=user, name="Second")))
    assert response.status_code == 409
    assert response.json()["code"] == "character_call_running"
    assert not Room.objects.exists()
    assert _clean_voice_queue.llen(voice_dispatch.REQUESTS) == 0


def test_the_request_holds_ids_and_the_seat_session_only(api_client, user, make_character, _clean_voice_queue, monkeypatch):
    """What a worker would take: the documented fields, no transcript or audio."""
    monkeypatch.setattr(dispatch, "CLAIM_TIMEOUT", 0.5)
    fresh_worker_heartbeat(_clean_voice_queue)
    seen: list[dict] = []
    original = dispatch.submit_and_wait

    def spy(request, timeout=None):
        seen.append(json.loads(json.dumps(request)))
        return original(request, timeout)

    monkeypatch.setattr(dispatch, "submit_and_wait", spy)
    api_client.post(url(make_character(owner=user)))
    assert set(seen[0]) == {"kind", "session", "user", "room", "room_code", "conversation", "guest_session",
                            "base_url", "max_s", "claim_key", "at"}
    assert seen[0]["kind"] == "character_call" and seen[0]["user"] == user.pk
