"""One error format for every failure under /api/: {"code", "message", "details"}."""
from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.services import MAX_TOKENS_PER_USER

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def test_400_validation_lists_fields(api_client):
    body = assert_error(api_client.post("/api/accounts/tokens", {}, format="json"), 400, "invalid")
    assert "name" in body["details"]


def test_400_malformed_json(api_client):
    response = api_client.post("/api/accounts/tokens", "{not json", content_type="application/json")
    assert_error(response, 400, "invalid_json")


def test_401_without_credentials(anon_api_client):
    assert_error(anon_api_client.get("/api/accounts/me"), 401, "not_authenticated")


def test_403_plan_style_limit(api_client, user, monkeypatch):
    # Token creation is also throttled ("auth", 20/min): lift the rate to reach the count limit.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, "auth": "1000/min"})
    for i in range(MAX_TOKENS_PER_USER):
        assert api_client.post("/api/accounts/tokens", {"name": f"t{i}"}, format="json").status_code == 201
    response = api_client.post("/api/accounts/tokens", {"name": "one too many"}, format="json")
    assert_error(response, 403, "too_many_tokens")
    assert user.api_tokens.count() == MAX_TOKENS_PER_USER


def test_404_unknown_api_path(api_client):
    assert_error(api_client.get("/api/no/such/thing"), 404, "not_found")


def test_405_wrong_method(api_client):
    assert_error(api_client.delete("/api/accounts/me"), 405, "method_not_allowed")


def test_413_body_over_form_memory_limit(api_client, settings, user):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    payload = json.dumps({"name": "x" * 5000})
    response = api_client.post("/api/accounts/tokens", payload, content_type="application/json")
    assert_error(response, 413, "payload_too_large")
    assert user.api_tokens.count() == 0


def test_413_content_length_over_ceiling(api_client, settings):
    settings.MAX_REQUEST_BYTES = 4096
    response = api_client.post("/api/accounts/tokens", b"x" * 5000, content_type="application/octet-stream")
    body = assert_error(response, 413, "payload_too_large")
    assert body["details"]["max_bytes"] == 4096


def test_429_throttled_with_retry_after(api_client, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "3/min", "anon": "3/min", "auth": "3/min"})
    statuses = [api_client.get("/api/accounts/me").status_code for _ in range(4)]
    assert statuses[:3] == [200, 200, 200]
    response = api_client.get("/api/accounts/me")
    body = assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1
    assert body["details"]["retry_after"] >= 1


def test_500_in_api_view_is_json_without_internals(settings, user):
    settings.ROOT_URLCONF = "tests.platform.urls_boom"
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    body = assert_error(client.get("/api/test/boom"), 500, "server_error")
    assert "kaboom" not in body["message"]
    body = assert_error(client.get("/api/test/plain-boom"), 500, "server_error")
    assert "kaboom" not in body["message"]


def test_pages_keep_html_errors(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
