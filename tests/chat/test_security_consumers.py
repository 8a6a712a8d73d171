"""The chat socket takes from the same per-user send budget as POST .../messages: the socket
is no way around the API's rate."""
from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from rest_framework.test import APIClient

from chat import rate_limits
from chat.models import Message

from .test_consumers import _clean_slots, _fresh_layers, connect, new_conversation, recv_until  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


async def test_socket_sends_share_the_api_send_rate(user, character, fake_llm, monkeypatch):
    monkeypatch.setattr(rate_limits, "CHAT_SEND", rate_limits.Rate("chat_send", 3, 60))
    conversation = await new_conversation(user, character)
    api = APIClient()
    api.force_authenticate(user)
    response = await database_sync_to_async(api.post)(
        f"/api/chat/conversations/{conversation.pk}/messages", {"text": "one"}, format="json"
    )
    assert response.status_code == 201
    ws = await connect(conversation.pk, user)
    await recv_until(ws, "ready")
    for text in ("two", "three"):
        await ws.send_json_to({"type": "send", "text": text})
        await recv_until(ws, "done")
    await ws.send_json_to({"type": "send", "text": "four"})
    error, _ = await recv_until(ws, "error")
    assert error["code"] == "rate_limited" and error["details"]["retry_after"] >= 1
    texts = await database_sync_to_async(
        lambda: list(Message.objects.filter(conversation=conversation, role="user").values_list("text", flat=True))
    )()
    assert sorted(texts) == ["one", "three", "two"]
