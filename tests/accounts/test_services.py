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



@pytest.fixture
def actors_in_use(monkeypatch):
    """The real actors counter (registered by characters, with its labels), counting `n` actors."""
    from dataclasses import replace

    used = {"n": 0}
    monkeypatch.setitem(usage._counters, "actor_slots", replace(usage.counter("actor_slots"), count=lambda user_id: used["n"]))
    return used


@pytest.mark.django_db
def test_limit_message_counts_in_the_singular_and_plural(make_user, actors_in_use):
    actors_in_use["n"] = 1
    with pytest.raises(LimitExceeded) as err, transaction.atomic():
        services.lock_user_for_limit(user_id=make_user(plan="free").pk, limit="actor_slots")  # 1 slot
    assert "allows 1 actor and you use 1." in err.value.message
    actors_in_use["n"] = 2
    with pytest.raises(LimitExceeded) as err, transaction.atomic():
        services.lock_user_for_limit(user_id=make_user(plan="pro").pk, limit="actor_slots")  # 2 slots
    assert "allows 2 actors and you use 2." in err.value.message


@pytest.mark.django_db
def test_limit_message_in_korean_names_the_plan_and_picks_the_particle(make_user, actors_in_use):
    from django.utils import translation

    actors_in_use["n"] = 1
    with translation.override("ko"), pytest.raises(LimitExceeded) as err, transaction.atomic():
        services.lock_user_for_limit(user_id=make_user(plan="free").pk, limit="actor_slots")
    assert err.value.message.startswith("무료 요금제에서는 액터를 1개까지"), err.value.message
    assert "(를)" not in err.value.message


@pytest.mark.django_db
def test_an_operators_plan_name_is_shown_as_written(plans):
    from django.utils import translation

    plan = plans["pro"]
    plan.name = "Pro+ (education)"
    plan.save()
    with translation.override("ko"):
        assert plan.label == "Pro+ (education)"
        assert plans["studio"].label == "스튜디오"
