"""REST API of memories: list, correct, delete, forget all, on/off; others' memories are 404."""
from __future__ import annotations

import numpy as np
import pytest
from rest_framework.test import APIClient

from chat.models import CharacterMemory, MemorySetting
from inference import embeddings

pytestmark = pytest.mark.django_db


def remember(user, character, text, **fields):
    return CharacterMemory.objects.create(user=user, character=character, text=text, **fields)


def test_list_shows_only_your_memories_of_that_character(api_client, user, other_user, character, make_character):
    mine = remember(user, character, "Jiwon loves spicy ramen.")
    remember(other_user, character, "Minsu's PIN is 4321.")
    remember(user, make_character(owner=user, name="Other"), "Jiwon plays the cello.")
    body = api_client.get(f"/api/chat/characters/{character.pk}/memories").json()
    assert body["enabled"] is True and body["count"] == 1 and body["limit"] == 200
    assert [(m["id"], m["text"]) for m in body["results"]] == [(mine.pk, "Jiwon loves spicy ramen.")]


def test_a_hidden_character_you_never_talked_to_is_404(api_client, other_user, make_character):
    hidden = make_character(owner=other_user, visibility="private")
    response = api_client.get(f"/api/chat/characters/{hidden.pk}/memories")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_correct_a_memory_re_embeds_it(api_client, user, character):
    memory = remember(user, character, "Jiwon loves spicy ramen.")
    response = api_client.patch(f"/api/chat/memories/{memory.pk}", {"text": "  Jiwon  loves mild ramen now. "}, format="json")
    assert response.status_code == 200 and response.json()["text"] == "Jiwon loves mild ramen now."
    memory.refresh_from_db()
    assert memory.text == "Jiwon loves mild ramen now." and memory.embedding_model == embeddings.MODEL_NAME
    assert np.allclose(embeddings.from_bytes(memory.embedding), embeddings.embed(["Jiwon loves mild ramen now."])[0], atol=1e-5)


@pytest.mark.parametrize("payload", [{"text": ""}, {"text": "x" * 301}, {}, {"text": ["a"]}])
def test_bad_edits_are_refused_and_change_nothing(api_client, user, character, payload):
    memory = remember(user, character, "Jiwon loves spicy ramen.")
    response = api_client.patch(f"/api/chat/memories/{memory.pk}", payload, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid" and "text" in response.json()["details"]
    memory.refresh_from_db()
    assert memory.text == "Jiwon loves spicy ramen."


def test_others_memories_are_404_for_read_edit_and_delete_even_with_a_bad_body(user, other_user, character):
    theirs = remember(other_user, character, "Minsu's PIN is 4321.")
    client = APIClient()
    client.force_authenticate(user)
    for response in (
        client.get(f"/api/chat/memories/{theirs.pk}"),
        client.patch(f"/api/chat/memories/{theirs.pk}", {"text": ""}, format="json"),  # ownership before validation
        client.delete(f"/api/chat/memories/{theirs.pk}"),
        client.get("/api/chat/memories/99999999999999999999"),
    ):
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert CharacterMemory.objects.get(pk=theirs.pk).text == "Minsu's PIN is 4321."


def test_delete_one_and_forget_all(api_client, user, other_user, character):
    one = remember(user, character, "Jiwon loves spicy ramen.")
    remember(user, character, "Jiwon plays the cello.")
    remember(user, character, "Jiwon has a cat.")
    theirs = remember(other_user, character, "Minsu's PIN is 4321.")
    assert api_client.delete(f"/api/chat/memories/{one.pk}").status_code == 204
    assert not CharacterMemory.objects.filter(pk=one.pk).exists()
    response = api_client.delete(f"/api/chat/characters/{character.pk}/memories")
    assert response.status_code == 200 and response.json() == {"deleted": 2}
    assert list(CharacterMemory.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_turning_memory_off_deletes_everything_and_says_so(api_client, user, character):
    remember(user, character, "Jiwon loves spicy ramen.")
    assert api_client.get(f"/api/chat/characters/{character.pk}/memory-setting").json() == {"enabled": True}
    response = api_client.put(f"/api/chat/characters/{character.pk}/memory-setting", {"enabled": False}, format="json")
    assert response.status_code == 200 and response.json() == {"enabled": False}
    assert not CharacterMemory.objects.filter(user=user).exists()
    assert MemorySetting.objects.get(user=user, character=character).enabled is False
    assert api_client.get(f"/api/chat/characters/{character.pk}/memories").json()["enabled"] is False
    bad = api_client.put(f"/api/chat/characters/{character.pk}/memory-setting", {"enabled": "maybe"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


def test_anonymous_requests_are_refused(anon_api_client, user, character):
    memory = remember(user, character, "Jiwon loves spicy ramen.")
    for response in (anon_api_client.get(f"/api/chat/characters/{character.pk}/memories"),
                     anon_api_client.delete(f"/api/chat/memories/{memory.pk}")):
        assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
    assert CharacterMemory.objects.filter(pk=memory.pk).exists()
