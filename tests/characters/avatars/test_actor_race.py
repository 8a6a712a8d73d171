"""Two concurrent requests for the last actor slot: exactly one wins (row lock on PostgreSQL)."""
from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from avatarforge.errors import LimitExceeded
from characters.avatars import actors, services
from characters.models import Actor, Avatar
from tests.characters.avatars.support import SPHERE


@pytest.mark.django_db(transaction=True)
def test_two_threads_race_for_the_last_actor_slot(make_user):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are only meaningful on PostgreSQL (CI runs it)")
    owner = make_user(plan="free")  # one actor slot
    avatar = services.create_avatar_from_file(owner=owner, file=SPHERE, filename="s.vrm")
    barrier = threading.Barrier(2)
    results: list[str] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            actors.create_actor(user=owner, name=f"Actor {n}", avatar_id=avatar.pk)
            outcome = "created"
        except LimitExceeded as exc:
            outcome = exc.code
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["actor_slots_exceeded", "created"]
    assert Actor.objects.filter(owner=owner).count() == 1
    assert Avatar.objects.filter(owner=owner).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_threads_upload_the_same_file(make_user, _media_root):
    """The unique (owner, fileHash) and the row lock keep one copy; the loser gets avatar_duplicate
    and its stored objects are removed."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are only meaningful on PostgreSQL (CI runs it)")
    from avatarforge.errors import Conflict
    from tests.characters.avatars.support import media_files

    owner = make_user()
    barrier = threading.Barrier(2)
    results: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            barrier.wait(timeout=10)
            services.create_avatar_from_file(owner=owner, file=SPHERE, filename="s.vrm")
            outcome = "created"
        except Conflict as exc:
            outcome = exc.code
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["avatar_duplicate", "created"]
    avatar = Avatar.objects.get(owner=owner)
    names = {str(p.relative_to(_media_root)) for p in media_files(_media_root)}
    assert names == {avatar.storage_key, avatar.thumbnail_key}
