"""REST API of chat: models, emotion table, conversations, messages (429 when busy), authorization."""
from __future__ import annotations

import pytest

from chat.models import Conversation, EmotionPose, Message, Summary
from inference import slots as concurrency

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_slots(settings):
    concurrency._limiters.clear()
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter("chat:slots:*"):
            client.delete(key)


def test_models_list(api_client, fake_llm):
    body = api_client.get("/api/chat/models").json()
    assert body["default"] == "fake"
    assert [(m["name"], m["default"], m["context_length"]) for m in body["models"]] == [
        ("fake", True, 8192), ("fake-small", False, 2048)]
    assert "base_url" not in body["models"][0] and "api_key" not in body["models"][0]


def test_emotion_table(api_client):
    EmotionPose.objects.update_or_create(emotion="happy", defaults={"expressions": {"happy": 0.5}, "transition": 0.4})
    body = api_client.get("/api/chat/emotions").json()["emotions"]
    assert set(body) == {"happy", "sad", "angry", "surprised", "neutral", "excited"}
    assert body["happy"]["expressions"] == {"happy": 0.5, "sad": 0.0, "angry": 0.0, "surprised": 0.0, "relaxed": 0.0}
    assert body["happy"]["transition"] == 0.4
    for pose in body.values():
        assert 0.1 <= pose["transition"] <= 0.5
        assert set(pose["head"]) == {"pitch", "yaw", "roll"}


def test_anonymous_is_refused(anon_api_client, conversation):
    for url in ("/api/chat/models", "/api/chat/conversations", f"/api/chat/conversations/{conversation.pk}/messages"):
        response = anon_api_client.get(url)
        assert response.status_code in (401, 403)
        assert response.json()["code"] == "not_authenticated"


def test_create_list_rename_delete(api_client, user, character, fake_llm):
    response = api_client.post("/api/chat/conversations", {
        "character": str(character.pk), "model": "fake-small", "scenario": {"situation": "On a train."},
    }, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["character"]["name"] == "Mina" and body["model_name"] == "fake-small"
    assert body["scenario"]["situation"] == "On a train."
    assert body["links"]["websocket"] == f"/ws/chat/{body['id']}/"
    listed = api_client.get("/api/chat/conversations").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == body["id"]
    renamed = api_client.patch(f"/api/chat/conversations/{body['id']}", {"title": "Train ride"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["title"] == "Train ride"
    assert api_client.patch(f"/api/chat/conversations/{body['id']}", {"model": "nope"}, format="json").json()["code"] == "unknown_model"
    assert api_client.delete(f"/api/chat/conversations/{body['id']}").status_code == 204
    assert not Conversation.objects.exists() and not Message.objects.exists()


def test_create_validates(api_client, character, fake_llm):
    response = api_client.post("/api/chat/conversations", {"character": "not-a-uuid"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    response = api_client.post("/api/chat/conversations", {"character": str(character.pk), "title": "x" * 300}, format="json")
    assert response.status_code == 400
    assert not Conversation.objects.exists()


def test_send_message_and_read_messages(api_client, conversation, fake_llm):
    fake_llm.reply("[surprised] Really?!")
    response = api_client.post(f"/api/chat/conversations/{conversation.pk}/messages", {"text": "I won!"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["user_message"]["text"] == "I won!"
    assert (body["reply"]["text"], body["reply"]["emotion"], body["reply"]["status"]) == ("Really?!", "surprised", "complete")
    page = api_client.get(f"/api/chat/conversations/{conversation.pk}/messages?limit=2").json()
    assert [m["seq"] for m in page["results"]] == [2, 3] and page["has_older"] is True
    older = api_client.get(f"/api/chat/conversations/{conversation.pk}/messages?before=2").json()
    assert [m["seq"] for m in older["results"]] == [1] and older["has_older"] is False


def test_busy_model_answers_429_with_retry_after(api_client, conversation, fake_llm, settings):
    settings.LLM_MODELS = [fake_llm.model_config("fake", max_concurrency=2)]
    pool = fake_llm.base_url  # one pool per upstream server
    held = [concurrency.try_acquire(pool, 2) for _ in range(2)]
    assert all(held)
    try:
        response = api_client.post(f"/api/chat/conversations/{conversation.pk}/messages", {"text": "hi"}, format="json")
        assert response.status_code == 429
        assert int(response["Retry-After"]) >= 1
        assert response.json()["code"] == "model_busy"
        assert conversation.messages.count() == 1  # nothing written
        assert not fake_llm.completions
    finally:
        for slot in held:
            slot.release_sync()
    fake_llm.reply("ok")
    assert api_client.post(f"/api/chat/conversations/{conversation.pk}/messages", {"text": "hi"}, format="json").status_code == 201


def test_upstream_errors_keep_the_error_format(api_client, conversation, fake_llm):
    fake_llm.fail(503, "overloaded", times=4)
    response = api_client.post(f"/api/chat/conversations/{conversation.pk}/messages", {"text": "hi"}, format="json")
    assert response.status_code == 502
    assert response.json()["code"] == "llm_upstream_error" and response.json()["message"]
    fake_llm.fail(429, "slow down", headers={"Retry-After": "60"})
    response = api_client.post(f"/api/chat/conversations/{conversation.pk}/messages", {"text": "hi"}, format="json")
    assert response.status_code == 429 and response.json()["code"] == "llm_rate_limited"
    assert conversation.messages.count() == 1


def test_send_validates_text(api_client, conversation, fake_llm):
    for text in ("", "x" * 4001):
        response = api_client.post(f"/api/chat/conversations/{conversation.pk}/messages", {"text": text}, format="json")
        assert response.status_code == 400
    assert conversation.messages.count() == 1


def test_plan_limit_is_403(api_client, user, conversation, make_character, fake_llm):
    from chat import services

    other = services.create_conversation(user=user, character_id=make_character(owner=user, name="Other").pk)
    services.start_reply(user=user, conversation_id=other.pk, text="pending")  # one reply in flight
    response = api_client.post(f"/api/chat/conversations/{conversation.pk}/messages", {"text": "hi"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "concurrent_conversations_exceeded"
    assert conversation.messages.count() == 1


def test_nobody_reads_another_users_conversation(conversation, other_user, fake_llm):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(other_user)
    base = f"/api/chat/conversations/{conversation.pk}"
    for method, url, data in [
        ("get", base, None), ("patch", base, {"title": "mine"}), ("delete", base, None),
        ("get", f"{base}/messages", None), ("post", f"{base}/messages", {"text": "hi"}),
        ("post", f"{base}/cancel", None), ("get", f"{base}/summaries", None),
    ]:
        response = getattr(client, method)(url, data, format="json")
        assert response.status_code == 404, (method, url)
        assert response.json()["code"] == "not_found"
    assert client.get("/api/chat/conversations").json()["count"] == 0
    assert Conversation.objects.get(pk=conversation.pk).title == "Mina"
    assert not fake_llm.completions


def test_nobody_chats_with_another_users_private_character(other_user, character, fake_llm):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(other_user)
    response = client.post("/api/chat/conversations", {"character": str(character.pk)}, format="json")
    assert response.status_code == 404
    assert not Conversation.objects.exists()


def test_summaries_endpoint(api_client, conversation):
    parent = Summary.objects.create(conversation=conversation, level=1, start_seq=1, end_seq=20, text="big", token_count=1)
    Summary.objects.create(conversation=conversation, level=0, start_seq=1, end_seq=10, text="a", token_count=1, parent=parent)
    body = api_client.get(f"/api/chat/conversations/{conversation.pk}/summaries").json()["results"]
    assert [(s["level"], s["active"]) for s in body] == [(1, True), (0, False)]


def test_cancel_when_idle(api_client, conversation):
    response = api_client.post(f"/api/chat/conversations/{conversation.pk}/cancel")
    assert response.status_code == 202 and response.json() == {"cancelling": False}
