"""Password guessing: failed log-ins are limited per email and per client, and a made-up
X-Forwarded-For header does not make a new client (for the log-in limit nor the API's rates)."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts import login_throttle

pytestmark = pytest.mark.django_db


def _login(client, email, password, forwarded="203.0.113.7"):
    return client.post("/accounts/login/", {"username": email, "password": password}, HTTP_X_FORWARDED_FOR=forwarded)


def test_too_many_failures_for_one_email_refuse_even_the_right_password(client, user, password):
    for i in range(login_throttle.LOGIN_FAILURES_PER_EMAIL):
        response = _login(client, user.email, f"wrong-{i}", forwarded=f"198.51.100.{i}")
        assert response.status_code == 200
    response = _login(client, user.email.upper(), password)
    assert response.status_code == 200  # the form again, not the redirect of a log-in
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_one_client_guessing_many_accounts_is_stopped(client, make_user, password):
    victim = make_user("victim@example.com")
    for i in range(login_throttle.LOGIN_FAILURES_PER_CLIENT):
        _login(client, f"nobody{i}@example.com", "guess", forwarded=f"198.51.100.{i % 250}")
    response = _login(client, victim.email, password, forwarded="192.0.2.99")
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_few_typos_do_not_lock_anyone_out(client, user, password):
    for i in range(3):
        _login(client, user.email, f"typo-{i}")
    response = _login(client, user.email, password)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_forged_forwarded_for_does_not_dodge_the_anonymous_rate(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "1000/min", "anon": "2/min", "auth": "1000/min", "upload": "1000/hour"})
    client = APIClient()
    codes = [client.get("/api/characters", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code for i in range(3)]
    assert codes == [200, 200, 429]
