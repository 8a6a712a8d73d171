"""Character pages: list with search and filters, detail with Talk and export links, create by
hand, edit, delete, copy, import; 404 for what you may not see, 403 for what you may not change."""
from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from characters.models import Character


@pytest.fixture
def logged_in(client, user, password):
    client.login(email=user.email, password=password)
    return client


@pytest.mark.django_db
def test_list_shows_mine_and_public_with_filters(logged_in, user, other_user):
    Character.objects.create(owner=user, name="My Knight", category="game")
    Character.objects.create(owner=other_user, name="Their Secret", visibility="private")
    Character.objects.create(owner=other_user, name="Their Unlisted", visibility="unlisted")
    Character.objects.create(owner=other_user, name="Their Public", visibility="public", category="novel")
    html = logged_in.get("/characters/?scope=all").content.decode()
    assert "My Knight" in html and "Their Public" in html
    assert "Their Secret" not in html and "Their Unlisted" not in html
    html = logged_in.get("/characters/?scope=all&category=novel").content.decode()
    assert "Their Public" in html and "My Knight" not in html
    html = logged_in.get("/characters/?q=knight&scope=mine").content.decode()
    assert "My Knight" in html and "Their Public" not in html


@pytest.mark.django_db
def test_anonymous_sees_public_only(client, other_user):
    public = Character.objects.create(owner=other_user, name="Open Book", visibility="public")
    private = Character.objects.create(owner=other_user, name="Closed Book", visibility="private")
    html = client.get("/characters/?scope=all").content.decode()
    assert "Open Book" in html and "Closed Book" not in html
    assert client.get(f"/characters/{public.pk}/").status_code == 200
    assert client.get(f"/characters/{private.pk}/").status_code == 404
    assert client.get("/characters/new/").status_code == 302  # login first


@pytest.mark.django_db
def test_detail_page(logged_in, user):
    c = Character.objects.create(owner=user, name="Detail Dana", personality="Warm", first_message="Hi!",
                                 scenario_situation="At the pier", tags=["sea"])
    html = logged_in.get(f"/characters/{c.pk}/").content.decode()
    assert "Detail Dana" in html and "Warm" in html and "At the pier" in html
    assert f"/chat/?character={c.pk}" in html  # Talk
    assert f"/api/characters/{c.pk}/export?format=v3&amp;as=png" in html
    assert f"/characters/{c.pk}/edit/" in html


@pytest.mark.django_db
def test_others_characters_pages(logged_in, other_user):
    private = Character.objects.create(owner=other_user, name="P", visibility="private")
    unlisted = Character.objects.create(owner=other_user, name="U", visibility="unlisted")
    for path in ("", "edit/", "delete/"):
        assert logged_in.get(f"/characters/{private.pk}/{path}").status_code == 404
    assert logged_in.get(f"/characters/{unlisted.pk}/").status_code == 200
    assert logged_in.get(f"/characters/{unlisted.pk}/edit/").status_code == 403
    assert logged_in.post(f"/characters/{unlisted.pk}/delete/").status_code == 403
    assert Character.objects.filter(pk=unlisted.pk).exists()


@pytest.mark.django_db
def test_create_by_hand_edit_and_delete(logged_in, user):
    assert logged_in.get("/characters/new/manual/").status_code == 200
    response = logged_in.post("/characters/new/manual/", {
        "name": "Hand Made", "category": "original", "language": "en", "visibility": "private",
        "description": "Made by hand", "tags": "one, two", "alternate_greetings": "Hello\n---\nHi there\nfriend",
        "builtin_avatar": "fox",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    c = Character.objects.get(name="Hand Made")
    assert c.owner == user and c.tags == ["one", "two"] and c.alternate_greetings == ["Hello", "Hi there\nfriend"]

    page = logged_in.get(f"/characters/{c.pk}/edit/").content.decode()
    assert "Hi there" in page and "one, two" in page
    response = logged_in.post(f"/characters/{c.pk}/edit/", {
        "name": "Hand Made 2", "category": "original", "language": "en", "visibility": "public",
        "likes": "x" * 2001,
    })
    assert response.status_code == 200  # error shown, nothing saved
    c.refresh_from_db()
    assert c.name == "Hand Made" and c.visibility == "private"

    response = logged_in.post(f"/characters/{c.pk}/edit/", {
        "name": "Hand Made 2", "category": "original", "language": "en", "visibility": "public",
    })
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.name == "Hand Made 2" and c.visibility == "public"

    assert logged_in.get(f"/characters/{c.pk}/delete/").status_code == 200
    assert logged_in.post(f"/characters/{c.pk}/delete/").status_code == 302
    assert not Character.objects.filter(pk=c.pk).exists()


@pytest.mark.django_db
def test_copy_page_action(logged_in, user):
    preset = Character.objects.create(owner=None, preset_key="k", name="Preset P", visibility="public")
    response = logged_in.post(f"/characters/{preset.pk}/copy/")
    assert response.status_code == 302
    copy = Character.objects.get(owner=user)
    assert response["Location"] == f"/characters/{copy.pk}/" and copy.name == "Preset P"


@pytest.mark.django_db
def test_import_page(logged_in, user):
    assert logged_in.get("/characters/import/").status_code == 200
    card = {"spec": "chara_card_v2", "data": {"name": "Imported Ivy", "description": "From a file"}}
    upload = SimpleUploadedFile("ivy.json", json.dumps(card).encode(), content_type="application/json")
    response = logged_in.post("/characters/import/", {"file": upload, "visibility": "unlisted"})
    assert response.status_code == 302
    c = Character.objects.get(name="Imported Ivy")
    assert c.owner == user and c.visibility == "unlisted"

    bad = SimpleUploadedFile("bad.png", b"not a png", content_type="image/png")
    response = logged_in.post("/characters/import/", {"file": bad, "visibility": "private"})
    assert response.status_code == 200
    assert "card_not_png" in response.content.decode()
    assert Character.objects.count() == 1


@pytest.mark.django_db
def test_admin_pages(admin_client):
    Character.objects.create(owner=None, preset_key="k", name="Admin Preset", visibility="public")
    assert admin_client.get("/admin/characters/character/").status_code == 200
    assert admin_client.get("/admin/characters/character/add/").status_code == 200
    c = Character.objects.get()
    assert admin_client.get(f"/admin/characters/character/{c.pk}/change/").status_code == 200


@pytest.mark.django_db
def test_every_aria_describedby_on_the_create_page_points_at_an_element(logged_in):
    import re

    body = logged_in.get("/characters/new/").content.decode()
    described = [i for value in re.findall(r'aria-describedby="([^"]+)"', body) for i in value.split()]
    assert described, "no field is linked to its help text"
    ids = set(re.findall(r'\bid="([^"]+)"', body))
    assert [i for i in described if i not in ids] == []
