"""Fixtures of the chat tests: characters, conversations, eager summaries."""
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
        return Character.objects.create(owner=owner, **fields)

    return make


@pytest.fixture
def character(make_character, user):
    return make_character(owner=user)


@pytest.fixture
def conversation(user, character, fake_llm):
    from chat import services

    return services.create_conversation(user=user, character_id=character.pk)


@pytest.fixture
def eager_tasks(settings):
    """Celery tasks run inline (summaries land as soon as the reply's transaction commits)."""
    from avatarforge.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False
    app.conf.task_eager_propagates = False
