"""Token authentication on a protected endpoint, and revocation."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def test_token_lifecycle(api_client, user):
    created = api_client.post("/api/accounts/tokens", {"name": "phone"}, format="json")
    assert created.status_code == 201
    raw = created.json()["token"]
    assert raw.startswith("af_")
    stored = ApiToken.objects.get(user=user)
    assert raw not in (stored.key_hash, stored.prefix)  # only a hash is stored

    app = APIClient()
    assert app.get("/api/accounts/me").status_code == 401
    app.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    me = app.get("/api/accounts/me")
    assert me.status_code == 200
    assert me.json()["email"] == user.email
    assert {u["limit"] for u in me.json()["usage"]} >= set()

    listed = api_client.get("/api/accounts/tokens").json()
    assert [t["name"] for t in listed] == ["phone"] and "token" not in listed[0]

    assert api_client.delete(f"/api/accounts/tokens/{stored.id}").status_code == 204
    refused = app.get("/api/accounts/me")
    assert refused.status_code == 401
    assert refused.json()["code"] == "authentication_failed"


def test_cannot_revoke_someone_elses_token(api_client, other_user):
    other = APIClient()
    other.force_authenticate(other_user)
    token_id = other.post("/api/accounts/tokens", {"name": "x"}, format="json").json()["id"]
    response = api_client.delete(f"/api/accounts/tokens/{token_id}")
    assert response.status_code == 404
    assert response.json()["code"] == "token_not_found"
    assert ApiToken.objects.get(pk=token_id).revoked_at is None


def test_garbage_token_is_refused(anon_api_client):
    anon_api_client.credentials(HTTP_AUTHORIZATION="Bearer af_not-a-real-token")
    response = anon_api_client.get("/api/accounts/me")
    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "details"}
