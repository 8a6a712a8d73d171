"""Fixtures of the character-call tests: characters, a clean voice queue."""
from __future__ import annotations

import pytest


@pytest.fixture
def make_character(db):
    from characters.models import Character

    def make(owner=None, **fields):
        fields.setdefault("name", "Mina")
        fields.setdefault("personality", "Cheerful, curious, a little shy.")
        fields.setdefault("first_message", "Hi {{user}}! I'm {{char}}.")
        fields.setdefault("visibility", "private")
        fields.setdefault("builtin_avatar", "fox")
        return Character.objects.create(owner=owner, **fields)

    return make


@pytest.fixture(autouse=True)
def _clean_voice_queue(settings):
    """No worker heartbeats, requests or claims left over from another test."""
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    for pattern in ("voice:*", "calls:*"):
        for key in client.scan_iter(pattern):
            client.delete(key)
    yield client
    client.close()
