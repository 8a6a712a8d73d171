"""Validating a new character asks the database nothing it does not need: a check that runs a
query (DRF's conditional unique-together validator uses Q.check(), which turns a database error
into "passes" or "fails" silently) answered a create with 400 "must make a unique set" while
PostgreSQL was restarting, instead of letting the outage surface as a 503 (bench.faults)."""
from __future__ import annotations

import pytest
from rest_framework.test import APIRequestFactory

from characters.personas.serializers import CharacterSerializer

pytestmark = pytest.mark.django_db


def test_create_validation_runs_no_query(user, django_assert_num_queries):
    request = APIRequestFactory().post("/api/characters")
    request.user = user
    serializer = CharacterSerializer(data={"name": "Mina", "personality": "Shy."}, context={"request": request})
    with django_assert_num_queries(0):
        assert serializer.is_valid(), serializer.errors
