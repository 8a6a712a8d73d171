"""What an upstream LLM server says about itself (keys, accounts) never reaches users."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

SECRET = "Incorrect API key provided: sk-live-9f8e7d6c5b4a. You can find your key at org-acme-internal."


def test_upstream_auth_error_text_is_not_sent_to_the_user(api_client, conversation, fake_llm, caplog):
    fake_llm.fail(401, SECRET, code="invalid_api_key")
    with caplog.at_level("WARNING", logger="inference.llm"):
        response = api_client.post(
            f"/api/chat/conversations/{conversation.pk}/messages", {"text": "Hello"}, format="json"
        )
    assert response.status_code == 502
    body = response.json()
    assert body["code"] == "llm_auth_failed"
    text = response.content.decode()
    assert "sk-live" not in text and "org-acme" not in text
    assert body["details"]["upstream_status"] == 401
    assert "sk-live-9f8e7d6c5b4a" in caplog.text  # operators still see it


def test_upstream_error_text_is_not_in_llm_error_details(fake_llm):
    from inference import llm as gateway

    fake_llm.fail(400, "temperature must be positive; deployment eu-west-internal-7", code=None)
    with pytest.raises(gateway.LLMError) as info:
        gateway.complete(model=None, messages=[{"role": "user", "content": "hi"}])
    assert "eu-west-internal" not in str(info.value.as_dict())
