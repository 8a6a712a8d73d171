"""Shared pytest fixtures: users on plans, API clients, a clean cache per test."""
from __future__ import annotations

import os

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

# Subprocesses started by tests (Daphne, manage.py commands) load the same test-friendly settings.
os.environ.setdefault("AVATARFORGE_TESTING", "1")

pytest_plugins = ["tests.support.fixtures"]


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Every test stores files in its own folder, so leftovers are easy to detect."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def password() -> str:
    return "correct-horse-battery-9"


@pytest.fixture
def plans(db):
    """The default plans. Transactional tests flush tables, data migrations included."""
    from accounts.models import Plan
    from accounts.plans import ensure_plans

    ensure_plans(Plan)
    return {plan.code: plan for plan in Plan.objects.all()}


@pytest.fixture
def make_user(db, password, plans):
    from accounts.models import Plan, User

    counter = {"n": 0}

    def make(email: str | None = None, plan: str = "free", **extra) -> User:
        counter["n"] += 1
        email = email or f"user{counter['n']}@example.com"
        return User.objects.create_user(email=email, password=password, plan=Plan.objects.get(code=plan), **extra)

    return make


@pytest.fixture
def user(make_user):
    return make_user("alice@example.com")


@pytest.fixture
def other_user(make_user):
    return make_user("mallory@example.com")


@pytest.fixture
def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def anon_api_client() -> APIClient:
    return APIClient()
