"""Fixtures of the story tests: free model slots and a fresh story budget for each test."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _clean_slots(settings):
    from inference import slots

    slots._limiters.clear()
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter("chat:slots:*"):
            client.delete(key)
