"""One bounded JSON parser for every REST body (avatarforge/json_body.py): hostile nesting and
size answer 4xx in the error family, never a 500 from a RecursionError."""
from __future__ import annotations

import pytest
from django.conf import settings

from avatarforge.json_body import JsonTooDeep, json_depth, loads
from chat.models import Conversation
from rooms.models import Room

pytestmark = pytest.mark.django_db

DEEP = "[" * 1000 + "]" * 1000

# (method, path, signed in): the endpoints the attack found answering 500, plus the ones that
# had their own guard before (characters).
ENDPOINTS = [
    ("post", "/api/rooms/invites/redeem", False),
    ("post", "/api/rooms/", True),
    ("patch", "/api/accounts/me", True),
    ("post", "/api/accounts/tokens", True),
    ("post", "/api/actors", True),
    ("post", "/api/chat/conversations", True),
    ("post", "/api/avatars/resolve", True),
    ("post", "/api/characters", True),
]


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code and body["message"]
    return body


@pytest.mark.parametrize(("method", "path", "signed_in"), ENDPOINTS)
def test_deeply_nested_body_is_a_400_everywhere(api_client, anon_api_client, method, path, signed_in):
    client = api_client if signed_in else anon_api_client
    response = client.generic(method.upper(), path, DEEP, content_type="application/json")
    body = assert_error(response, 400, "json_too_deep")
    assert body["details"] == {"max_depth": settings.JSON_MAX_DEPTH}
    assert Room.objects.count() == 0 and Conversation.objects.count() == 0


def test_just_over_the_depth_limit_is_refused_and_at_it_is_parsed(api_client):
    limit = settings.JSON_MAX_DEPTH
    over = '{"name": ' + "[" * limit + "]" * limit + "}"  # the object adds one level
    assert_error(api_client.post("/api/accounts/tokens", over, content_type="application/json"), 400, "json_too_deep")
    at = '{"name": ' + "[" * (limit - 1) + "]" * (limit - 1) + "}"
    # Parsed, then refused by the serializer: name must be a string.
    assert_error(api_client.post("/api/accounts/tokens", at, content_type="application/json"), 400, "invalid")


def test_body_over_the_json_limit_is_413_unparsed(api_client, settings):
    settings.JSON_MAX_BODY_BYTES = 1000
    body = '{"name": "' + "x" * 2000 + '"}'
    got = assert_error(api_client.post("/api/accounts/tokens", body, content_type="application/json"), 413, "payload_too_large")
    assert got["details"] == {"max_bytes": 1000}


@pytest.mark.parametrize("text", ["{not json", '{"name": NaN}', b'{"name": "\xff"}'])
def test_malformed_json_is_invalid_json(api_client, text):
    assert_error(api_client.post("/api/accounts/tokens", text, content_type="application/json"), 400, "invalid_json")


def test_depth_is_counted_without_recursion():
    value: list = []
    for _ in range(100_000):
        value = [value]
    assert json_depth(value) == 100_001
    assert json_depth({"a": [1, {"b": 2}]}) == 3 and json_depth(5) == 0
    with pytest.raises(JsonTooDeep):
        loads("[" * 100_000 + "]" * 100_000)
