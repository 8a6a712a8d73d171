"""Sign-up, log-in, log-out and password change through the real pages, with CSRF enforced."""
from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import User

pytestmark = pytest.mark.django_db


def csrf_from(response) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())
    assert match, "form has no CSRF token"
    return match.group(1)


@pytest.fixture
def browser() -> Client:
    return Client(enforce_csrf_checks=True)


def test_signup_creates_user_on_default_plan_and_logs_in(browser):
    page = browser.get("/accounts/signup/")
    assert page.status_code == 200
    response = browser.post(
        "/accounts/signup/",
        {"csrfmiddlewaretoken": csrf_from(page), "email": "New@Example.com", "display_name": "Newbie",
         "password1": "a-long-pass-phrase-7", "password2": "a-long-pass-phrase-7"},
    )
    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert user.plan.code == "free"
    assert browser.get("/accounts/profile/").status_code == 200


def test_signup_rejects_duplicate_email_and_weak_password(browser, user):
    page = browser.get("/accounts/signup/")
    response = browser.post(
        "/accounts/signup/",
        {"csrfmiddlewaretoken": csrf_from(page), "email": user.email, "password1": "123", "password2": "123"},
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.count() == 1


def test_login_logout(browser, user, password):
    page = browser.get("/accounts/login/")
    response = browser.post("/accounts/login/", {"csrfmiddlewaretoken": csrf_from(page), "username": user.email, "password": password})
    assert response.status_code == 302
    profile = browser.get("/accounts/profile/")
    assert profile.status_code == 200 and user.email in profile.content.decode()
    response = browser.post("/accounts/logout/", {"csrfmiddlewaretoken": csrf_from(profile)})
    assert response.status_code == 302
    assert browser.get("/accounts/profile/").status_code == 302  # back to login


def test_login_wrong_password_stays_out(browser, user):
    page = browser.get("/accounts/login/")
    response = browser.post("/accounts/login/", {"csrfmiddlewaretoken": csrf_from(page), "username": user.email, "password": "nope"})
    assert response.status_code == 200
    assert browser.get("/accounts/profile/").status_code == 302


def test_password_change(browser, user, password):
    browser.force_login(user)
    page = browser.get("/accounts/password/")
    response = browser.post(
        "/accounts/password/",
        {"csrfmiddlewaretoken": csrf_from(page), "old_password": password,
         "new_password1": "another-good-phrase-8", "new_password2": "another-good-phrase-8"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-good-phrase-8")


def test_profile_shows_plan_and_usage(browser, user, monkeypatch):
    from accounts import usage

    monkeypatch.setattr(usage, "_counters", {})
    usage.register_counter("avatar_slots", "avatars", lambda user_id: 3)
    browser.force_login(user)
    body = browser.get("/accounts/profile/").content.decode()
    assert "Free" in body
    assert re.search(r'data-limit="avatar_slots">3 / 50<', body)


def test_profile_token_shown_once_and_revocable(browser, user):
    browser.force_login(user)
    page = browser.get("/accounts/profile/")
    browser.post("/accounts/tokens/", {"csrfmiddlewaretoken": csrf_from(page), "name": "my app"})
    shown = browser.get("/accounts/profile/").content.decode()
    raw = re.search(r'id="new-token">(af_[^<]+)<', shown).group(1)
    assert raw not in browser.get("/accounts/profile/").content.decode()
    token = user.api_tokens.get()
    page = browser.get("/accounts/profile/")
    browser.post(f"/accounts/tokens/{token.id}/revoke/", {"csrfmiddlewaretoken": csrf_from(page)})
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_pages_render_in_korean(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="ko")
    assert response.status_code == 200
    assert 'lang="ko"' in response.content.decode()


def test_login_matches_the_email_in_any_case(browser, user, password):
    page = browser.get("/accounts/login/")
    response = browser.post(
        "/accounts/login/", {"csrfmiddlewaretoken": csrf_from(page), "username": "Alice@Example.COM", "password": password}
    )
    assert response.status_code == 302
    assert browser.session["_auth_user_id"] == str(user.pk)


def test_an_email_stored_in_mixed_case_still_logs_in_in_lower_case(browser, password, plans):
    # Accounts made before emails were lowercased on every save (e.g. in admin) keep their case.
    user = User.objects.create_user(email="x@example.com", password=password)
    User.objects.filter(pk=user.pk).update(email="Demo@AvatarForge.local")
    page = browser.get("/accounts/login/")
    response = browser.post(
        "/accounts/login/", {"csrfmiddlewaretoken": csrf_from(page), "username": "demo@avatarforge.local", "password": password}
    )
    assert response.status_code == 302


def test_signup_refuses_an_email_taken_in_another_case(browser, user):
    page = browser.get("/accounts/signup/")
    response = browser.post(
        "/accounts/signup/",
        {"csrfmiddlewaretoken": csrf_from(page), "email": "ALICE@example.com", "display_name": "",
         "password1": "a-long-pass-phrase-7", "password2": "a-long-pass-phrase-7"},
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.count() == 1


def test_every_save_stores_the_email_in_lower_case(plans):
    # Admin's add form and the shell go through save(), not the sign-up form.
    user = User(email="Bob@Example.com", plan=plans["free"])
    user.set_unusable_password()
    user.save()
    user.refresh_from_db()
    assert user.email == "bob@example.com"


def test_profile_in_korean_translates_the_plan_name(browser, user):
    browser.force_login(user)
    body = browser.get("/accounts/profile/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert '<span class="badge">무료</span>' in body


def test_token_revoke_question_picks_the_korean_particle(browser, user):
    browser.force_login(user)
    page = browser.get("/accounts/profile/", HTTP_ACCEPT_LANGUAGE="ko")
    browser.post("/accounts/tokens/", {"csrfmiddlewaretoken": csrf_from(page), "name": "앱"}, HTTP_ACCEPT_LANGUAGE="ko")
    token = user.api_tokens.get()
    page = browser.get("/accounts/profile/", HTTP_ACCEPT_LANGUAGE="ko")
    body = page.content.decode()
    assert "토큰 “앱”을 폐기할까요?" in body, re.findall(r'data-confirm="([^"]*)"', body)
    assert "(를)" not in body
    assert token.is_active


def test_signup_aria_describedby_points_at_the_help_texts(browser):
    body = browser.get("/accounts/signup/").content.decode()
    described = [i for value in re.findall(r'aria-describedby="([^"]+)"', body) for i in value.split()]
    assert "id_password1_helptext" in described  # Django links the password rules to the field
    ids = set(re.findall(r'\bid="([^"]+)"', body))
    assert [i for i in described if i not in ids] == []
