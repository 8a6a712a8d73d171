"""Hostile-input limits that apply to the whole API."""
from __future__ import annotations

import pytest

from avatarforge.pagination import MAX_PAGE_SIZE

pytestmark = pytest.mark.django_db


def test_page_size_is_capped(api_client, user):
    """`?limit=` must not let one request serialize a whole table (every public character)."""
    from characters.models import Character

    Character.objects.bulk_create(
        [Character(owner=user, name=f"C{i:04d}", visibility="public") for i in range(MAX_PAGE_SIZE + 5)]
    )
    response = api_client.get("/api/characters", {"limit": 100_000, "scope": "mine"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == MAX_PAGE_SIZE + 5
    assert len(body["results"]) == MAX_PAGE_SIZE
    assert body["next"] is not None


def test_default_pagination_class_is_bounded():
    from django.conf import settings

    assert settings.REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"] == "avatarforge.pagination.BoundedLimitOffsetPagination"
