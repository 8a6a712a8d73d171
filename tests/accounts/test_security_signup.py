"""Sign-up is limited per client address: every account brings a plan's quotas (generation
jobs, LLM conversations), so mass sign-ups multiply them."""
from __future__ import annotations

import pytest
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_signups_per_client_are_limited(client, plans, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "1000/min", "anon": "1000/min", "signup": "2/hour"})
    statuses = []
    for i in range(3):
        response = client.post("/accounts/signup/", {
            "email": f"bot{i}@example.com", "display_name": "", "password1": "long-enough-pass-9", "password2": "long-enough-pass-9",
        }, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
        statuses.append(response.status_code)
        client.logout()
    assert statuses == [302, 302, 429]
    assert sorted(User.objects.values_list("email", flat=True)) == ["bot0@example.com", "bot1@example.com"]
