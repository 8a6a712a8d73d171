"""The wizard's progress and cancel (wizard_progress.py): a page follows a running generation
field by field through GET /api/characters/wizard/progress/<id> and DELETEs it to cancel; the
model server's stream is closed and nothing is saved. Real HTTP to the fake OpenAI server."""
from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
from rest_framework.test import APIClient

from characters.models import Character
from characters.personas import wizard, wizard_progress
from tests.support.fake_openai import split_tokens

from .test_wizard import sheet, start


def poll_until(client: APIClient, url: str, ready, timeout_s: float = 60.0) -> dict:
    """Poll like the page does, until `ready(state)`; the ceiling only stops a broken test."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = client.get(url)
        if response.status_code == 200 and ready(response.json()):
            return response.json()
        time.sleep(0.05)
    raise AssertionError(f"no progress state matching at {url}")


def in_thread(call) -> tuple[threading.Thread, dict]:
    out: dict = {}
    thread = threading.Thread(target=lambda: out.update(response=call()))
    thread.start()
    return thread, out


@pytest.fixture
def poller(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db(transaction=True)
def test_progress_shows_the_field_being_written_and_cancel_stops_the_model(api_client, poller, fake_llm, user):
    answer = sheet("P")
    total_tokens = len(split_tokens(json.dumps(answer)))
    fake_llm.reply_json(answer, token_rate=25)
    progress_id = uuid.uuid4()
    url = f"/api/characters/wizard/progress/{progress_id}"
    thread, out = in_thread(lambda: start(api_client, progress_id=str(progress_id)))
    state = poll_until(poller, url, lambda s: s["done"] >= 2)
    assert state["field"] in wizard.GENERATED_FIELDS and state["total"] == len(wizard.GENERATED_FIELDS)
    assert state["attempt"] == 1 and state["cancelled"] is False
    later = poll_until(poller, url, lambda s: s["done"] > state["done"])  # it moves on
    assert wizard.GENERATED_FIELDS.index(later["field"]) > wizard.GENERATED_FIELDS.index(state["field"])

    cancel = poller.delete(url)
    assert cancel.status_code == 202 and cancel.json()["cancelled"] is True
    thread.join(60)
    response = out["response"]
    assert response.status_code == 409 and response.json()["code"] == "wizard_cancelled"
    assert not Character.objects.filter(owner=user).exists()  # nothing saved
    assert fake_llm.completions[-1].tokens_sent < total_tokens  # the model server was stopped
    assert poller.get(url).status_code == 404  # the progress record is gone with the request


@pytest.mark.django_db(transaction=True)
def test_someone_else_cannot_follow_or_cancel_it(api_client, poller, fake_llm, other_user):
    fake_llm.reply_json(sheet("Q"), token_rate=25)
    progress_id = uuid.uuid4()
    url = f"/api/characters/wizard/progress/{progress_id}"
    thread, out = in_thread(lambda: start(api_client, progress_id=str(progress_id)))
    stranger = APIClient()
    stranger.force_authenticate(other_user)
    poll_until(poller, url, lambda s: s["field"] is not None)
    assert stranger.get(url).status_code == 404
    assert stranger.delete(url).status_code == 404
    thread.join(60)
    assert out["response"].status_code == 201  # finished, not cancelled


@pytest.mark.django_db
def test_unknown_progress_is_404_in_the_error_family(api_client):
    response = api_client.get(f"/api/characters/wizard/progress/{uuid.uuid4()}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_a_generation_past_its_budget_is_stopped(settings):
    progress = wizard_progress.Progress(user_id=1, progress_id=None, budget_s=0.0)
    progress.new_try()
    time.sleep(0.01)
    with pytest.raises(Exception) as caught:
        progress.on_text('{"gender": "x"')
    assert caught.value.code == "llm_timeout" and caught.value.status == 504


def test_progress_counts_fields_as_their_keys_appear():
    progress = wizard_progress.Progress(user_id=1, progress_id=None, budget_s=60)
    progress.new_try()
    for piece in ['{"gender": "f", ', '"species": "elf", "age"', ': "30"']:
        progress.on_text(piece)
    state = progress._state()
    assert (state["field"], state["done"], state["tokens"]) == ("age", 2, 3)
