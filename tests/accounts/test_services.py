"""Plan limits under concurrency: two requests race for the last slot; exactly one wins."""
from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from accounts import services, usage
from accounts.models import ApiToken
from avatarforge.errors import LimitExceeded


@pytest.fixture
def token_counter(monkeypatch):
    """Count the user's API tokens against the plan's actor_slots, for a self-contained race."""
    monkeypatch.setattr(usage, "_counters", {})
    usage.register_counter("actor_slots", "things", lambda user_id: ApiToken.objects.filter(user_id=user_id).count())


def take_slot(user_id: int, name: str, barrier: threading.Barrier, outcomes: list[str]) -> None:
    try:
        barrier.wait()
        with transaction.atomic():
            services.lock_user_for_limit(user_id=user_id, limit="actor_slots")
            # Widen the window between check and insert: without the row lock both would pass.
            threading.Event().wait(0.2)
            ApiToken.objects.create(user_id=user_id, name=name, prefix=name, key_hash=name.ljust(64, "0"))
        outcomes.append("won")
    except LimitExceeded as exc:
        outcomes.append(exc.code)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_two_threads_race_for_last_slot(make_user, token_counter):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (CI runs this on PostgreSQL)")
    user = make_user(plan="free")  # actor_slots = 1
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    threads = [threading.Thread(target=take_slot, args=(user.pk, f"t{i}", barrier, outcomes)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["actor_slots_exceeded", "won"]
    assert ApiToken.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_limit_message_names_plan_and_numbers(make_user, token_counter):
    user = make_user(plan="pro")  # actor_slots = 2
    for i in range(2):
        ApiToken.objects.create(user=user, name=f"t{i}", prefix="p", key_hash=str(i).ljust(64, "0"))
    with pytest.raises(LimitExceeded) as err, transaction.atomic():
        services.lock_user_for_limit(user_id=user.pk, limit="actor_slots")
    assert err.value.details == {"limit": "actor_slots", "allowed": 2, "used": 2, "plan": "pro"}
    assert "Pro" in err.value.message


@pytest.mark.django_db(transaction=True)
def test_limit_check_refuses_to_run_outside_a_transaction(user, token_counter):
    with pytest.raises(RuntimeError):
        services.lock_user_for_limit(user_id=user.pk, limit="actor_slots")


@pytest.mark.django_db
def test_new_users_get_the_default_plan(make_user):
    from accounts.models import User

    user = User.objects.create_user(email="x@example.com", password="pw-long-enough-1")
    assert user.plan.code == "free"
    assert services.create_user(email="Y@Example.com", password="pw-long-enough-1").email == "y@example.com"
