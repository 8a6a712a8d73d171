"""The story page: signed-in only, in English and Korean, linked from the navigation."""
from __future__ import annotations

import pytest
from django.utils import translation

pytestmark = pytest.mark.django_db


def test_the_page_needs_a_sign_in(client):
    response = client.get("/story/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_page_offers_lengths_and_styles_and_its_script(client, user, password):
    client.login(email=user.email, password=password)
    html = client.get("/story/").content.decode()
    assert 'data-story-form' in html and "dist/story.js" in html
    assert '<option value="medium" selected>' in html and '<option value="slice_of_life">' in html
    assert 'href="/story/" aria-current="page"' in html  # in the navigation, marked current


def test_the_page_speaks_korean(client, user, password):
    client.login(email=user.email, password=password)
    with translation.override("ko"):
        html = client.get("/story/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "이야기" in html
