"""Live dashboard pages and the Chzzk link flow (views) against a fake Chzzk OAuth server."""
from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from characters.models import Character
from live import chzzk_link
from live.models import ChzzkAccount, LiveSession
from live.sealed import seal, unseal
from tests.support.fake_chzzk import ThreadedFakeChzzk


@pytest.fixture
def character(user):
    return Character.objects.create(owner=user, name="Miro")


@pytest.fixture
def page(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def chzzk(settings):
    server = ThreadedFakeChzzk()
    settings.CHZZK_API_BASE = server.fake.base_url
    settings.CHZZK_CLIENT_ID, settings.CHZZK_CLIENT_SECRET = server.fake.client_id, server.fake.client_secret
    settings.CHZZK_AUTH_URL = "https://chzzk.example/account-interlock"
    yield server.fake
    server.close()


def test_home_says_chzzk_is_not_configured_and_creates_a_test_session(page, character, settings):
    settings.CHZZK_CLIENT_ID = ""
    body = page.get("/live/").content.decode()
    assert 'data-chzzk-state="not-configured"' in body and "CHZZK_CLIENT_ID" in body
    refused = page.post("/live/chzzk/link", follow=True)
    assert "no Chzzk application configured" in refused.content.decode()
    response = page.post("/live/new", {"title": "Friday stream", "character": str(character.pk), "platform": "test"})
    session = LiveSession.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/live/{session.pk}/"
    assert (session.title, session.platform, session.owner_id) == ("Friday stream", "test", character.owner_id)
    detail = page.get(f"/live/{session.pk}/").content.decode()
    assert f"/live/overlay/{session.overlay_key}/?view=avatar" in detail and "data-live-test-chat" in detail
    assert "live-dashboard-config" in detail and "<script>" not in detail  # CSP: no inline scripts
    assert "Friday stream" in page.get("/live/").content.decode()


def test_dashboard_script_gets_its_words_in_the_page_language(page, character):
    session = LiveSession.objects.create(owner=character.owner, character=character, title="Korean stream")
    page.cookies["django_language"] = "ko"
    config = page.get(f"/live/{session.pk}/").context["config"]
    assert config["strings"]["statuses"]["stopped"] == "중지됨"
    assert config["strings"]["connected"] == "연결됨"


def test_someone_elses_session_page_and_settings_are_404(page, make_user, character):
    foreign = LiveSession.objects.create(owner=make_user("x@example.com"),
                                         character=Character.objects.create(name="T", owner=None), title="Theirs")
    assert page.get(f"/live/{foreign.pk}/").status_code == 404
    assert page.post(f"/live/{foreign.pk}/settings", {"batch_size": "nope"}).status_code == 404


def test_settings_form_saves_and_rejects_bad_values(page, character):
    session = LiveSession.objects.create(owner=character.owner, character=character, title="S")
    page.post(f"/live/{session.pk}/settings", {"min_length": "3", "batch_size": "2", "reply_pace_s": "1.5",
                                               "banned_words": "spam, scam", "block_links": "on",
                                               "hide_streamer_chat": "on"})
    session.refresh_from_db()
    assert session.settings["min_length"] == 3 and session.settings["batch_size"] == 2
    assert session.settings["banned_words"] == ["spam", "scam"] and session.settings["memory_enabled"] is False
    assert session.hide_streamer_chat is True
    bad = page.post(f"/live/{session.pk}/settings", {"batch_size": "99"}, follow=True)
    session.refresh_from_db()
    assert session.settings["batch_size"] == 2 and "batch_size" in bad.content.decode()


def test_link_flow_exchanges_the_code_and_stores_sealed_tokens(page, user, chzzk):
    start = page.post("/live/chzzk/link")
    assert start.status_code == 302 and start["Location"].startswith("https://chzzk.example/account-interlock?")
    query = parse_qs(urlparse(start["Location"]).query)
    assert query["clientId"] == [chzzk.client_id] and query["redirectUri"][0].endswith("/live/chzzk/callback")
    # A callback with someone else's state is refused and links nothing.
    page.get("/live/chzzk/callback", {"code": chzzk.issue_code(), "state": "forged"})
    assert not ChzzkAccount.objects.exists()
    start = page.post("/live/chzzk/link")
    state = parse_qs(urlparse(start["Location"]).query)["state"][0]
    done = page.get("/live/chzzk/callback", {"code": chzzk.issue_code(), "state": state}, follow=True)
    assert "Streamer Channel" in done.content.decode()
    account = ChzzkAccount.objects.get(user=user)
    assert account.channel_id == chzzk.channel_id and unseal(account.access_token) == chzzk.access_token
    assert chzzk.access_token.encode() not in bytes(account.access_token)  # sealed at rest
    assert chzzk.token_grants == ["authorization_code"]
    assert 'data-chzzk-state="linked"' in page.get("/live/").content.decode()
    page.post("/live/chzzk/unlink")
    assert not ChzzkAccount.objects.exists()


def test_credentials_refresh_a_token_near_expiry(user, chzzk):
    chzzk.refresh_tokens.add("refresh-1")
    ChzzkAccount.objects.create(user=user, channel_id="c", access_token=seal("old"), refresh_token=seal("refresh-1"),
                                expires_at=timezone.now() + dt.timedelta(minutes=2))
    creds = chzzk_link.credentials_for(user_id=user.pk)
    account = ChzzkAccount.objects.get(user=user)
    assert creds.access_token == chzzk.access_token != "old" and chzzk.token_grants == ["refresh_token"]
    assert account.expires_at > timezone.now() + dt.timedelta(hours=23)
    assert unseal(account.refresh_token) in chzzk.refresh_tokens  # rotated
    # Fresh tokens are used as they are, without asking Chzzk.
    chzzk_link.credentials_for(user_id=user.pk)
    assert chzzk.token_grants == ["refresh_token"]
