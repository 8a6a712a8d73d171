"""Pages of the avatar library and the actor editor; the admin upload path."""
from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from characters.avatars import actors, services
from characters.models import Actor, Avatar
from tests.characters.avatars.support import GODETTE, ROBOT, SPHERE, media_files, modified, upload_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(password):
    def make(user) -> Client:
        client = Client()
        assert client.login(email=user.email, password=password)
        return client

    return make


def test_pages_need_login(client):
    for url in (reverse("avatar_list"), reverse("actor_list")):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_library_grid(client_for, user, other_user):
    godette = services.create_avatar_from_file(owner=user, file=GODETTE, filename=GODETTE.name)
    foreign = services.create_avatar_from_file(owner=other_user, file=ROBOT, filename=ROBOT.name)  # redistributable
    response = client_for(user).get(reverse("avatar_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Low-Poly Godette" in html
    assert reverse("api:avatar-thumbnail", kwargs={"avatar_id": godette.pk}) in html
    assert "VRM 0.x" in html and "Excellent" in html
    assert 'id="avatar-upload-form"' in html and "dist/avatar_library.js" in html
    assert "avatar-upload-strings" in html
    assert str(foreign.pk) not in html
    services.update_avatar(user=other_user, avatar_id=foreign.pk, is_shared=True)
    shared = client_for(user).get(reverse("avatar_list") + "?tab=shared").content.decode()
    assert str(foreign.pk) in shared and str(godette.pk) not in shared


def test_form_upload_fallback(client_for, user, _media_root):
    client = client_for(user)
    response = client.post(reverse("avatar_upload"), {"file": upload_file("robot.vrm", ROBOT.read_bytes()), "owner_is_author": "on"})
    avatar = Avatar.objects.get(owner=user)
    assert response.status_code == 302 and response["Location"] == reverse("avatar_detail", kwargs={"avatar_id": avatar.pk})
    assert avatar.owner_is_author is True
    bad = client.post(reverse("avatar_upload"), {"file": upload_file("bad.vrm", b"nope" * 10)}, follow=True)
    assert "binary glTF" in bad.content.decode()
    assert "Export the avatar again" in bad.content.decode()
    assert Avatar.objects.count() == 1 and len(media_files(_media_root)) == 2


def test_detail_page(client_for, user):
    avatar = services.create_avatar_from_file(owner=user, file=GODETTE, filename=GODETTE.name)
    actors.create_actor(user=user, name="Stage", avatar_id=avatar.pk)
    response = client_for(user).get(reverse("avatar_detail", kwargs={"avatar_id": avatar.pk}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Conditions of use" in html and "CC_BY" in html and "SirRichard94" in html
    assert "Credit required" in html
    # What CC_BY implies is a separate, labelled table; the file's own rows say when they are defaults.
    implied = html.split('data-el="license-implies"')[1].split("</table>")[0]
    assert "What the license CC_BY implies" in implied and 'data-key="redistribution"' in implied
    assert 'data-key="redistribution" data-declared="false"' in html
    assert 'data-key="commercialUsage" data-declared="true"' in html
    assert 'data-expression="happy"' in html and 'data-expression="blinkLeft"' in html
    assert 'id="avatar-canvas"' in html and "dist/avatar_detail.js" in html
    config = json.loads(html.split('id="avatar-viewer-config" type="application/json">')[1].split("</script>")[0])
    assert config["url"] == reverse("api:avatar-file", kwargs={"avatar_id": avatar.pk})
    assert "happy" in config["expressions"]
    assert "45 humanoid bones" in html
    assert 'data-stat="triangles"' in html
    assert "Stage" in html  # used by actors


def test_detail_warnings_and_use_rule(client_for, user):
    data = modified(SPHERE, lambda g: g["extensions"]["VRM"]["meta"].update(allowedUserName="OnlyAuthor"))
    avatar = services.create_avatar_from_file(owner=user, file=__import__("io").BytesIO(data), filename="s.vrm")
    html = client_for(user).get(reverse("avatar_detail", kwargs={"avatar_id": avatar.pk})).content.decode()
    assert 'data-warning="no_finger_bones"' in html
    assert "If you are the author" in html


def test_detail_escapes_file_metadata(client_for, user):
    data = modified(SPHERE, lambda g: g["extensions"]["VRM"]["meta"].update(title="<script>alert(1)</script>", author="<b>x</b>"))
    avatar = services.create_avatar_from_file(owner=user, file=__import__("io").BytesIO(data), filename="s.vrm")
    html = client_for(user).get(reverse("avatar_detail", kwargs={"avatar_id": avatar.pk})).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<b>x</b>" not in html
    listing = client_for(user).get(reverse("avatar_list")).content.decode()
    assert "<script>alert(1)</script>" not in listing


def test_detail_of_another_users_private_avatar_is_404(client_for, user, other_user):
    avatar = services.create_avatar_from_file(owner=other_user, file=SPHERE, filename="s.vrm")
    client = client_for(user)
    assert client.get(reverse("avatar_detail", kwargs={"avatar_id": avatar.pk})).status_code == 404
    assert client.get(reverse("avatar_delete", kwargs={"avatar_id": avatar.pk})).status_code == 404
    assert client.post(reverse("avatar_detail", kwargs={"avatar_id": avatar.pk}), {"name": "x"}).status_code == 404


def test_settings_form(client_for, user):
    avatar = services.create_avatar_from_file(owner=user, file=ROBOT, filename="r.vrm")  # declares allowRedistribution
    client = client_for(user)
    url = reverse("avatar_detail", kwargs={"avatar_id": avatar.pk})
    response = client.post(url, {"name": "Ball", "is_shared": "on", "owner_is_author": "on"})
    assert response.status_code == 302
    avatar.refresh_from_db()
    assert (avatar.name, avatar.is_shared, avatar.owner_is_author, avatar.owner_has_license) == ("Ball", True, True, False)


def test_delete_page_lists_actors_then_deletes(client_for, user, _media_root, django_capture_on_commit_callbacks):
    avatar = services.create_avatar_from_file(owner=user, file=SPHERE, filename="s.vrm")
    actor = actors.create_actor(user=user, name="Streamer", avatar_id=avatar.pk)
    client = client_for(user)
    url = reverse("avatar_delete", kwargs={"avatar_id": avatar.pk})
    page = client.get(url).content.decode()
    assert 'id="avatar-used-by"' in page and "Streamer" in page
    refused = client.post(url, follow=True)
    assert "Streamer" in refused.content.decode()
    assert Avatar.objects.filter(pk=avatar.pk).exists()
    actor.delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("avatar_list")
    assert not Avatar.objects.exists() and media_files(_media_root) == []


def test_actor_pages(client_for, user):
    avatar = services.create_avatar_from_file(owner=user, file=GODETTE, filename=GODETTE.name)
    client = client_for(user)
    listing = client.get(reverse("actor_list"))
    assert listing.status_code == 200 and 'id="actor-usage"' in listing.content.decode()
    created = client.post(reverse("actor_list"), {"name": "Main", "avatar": str(avatar.pk)})
    actor = Actor.objects.get(owner=user)
    assert created.status_code == 302 and created["Location"] == reverse("actor_edit", kwargs={"actor_id": actor.pk})
    # the plan allows one actor: the form is replaced by advice, and a post is refused
    page = client.get(reverse("actor_list")).content.decode()
    assert "Your plan allows 1 actor. Delete it or upgrade your plan to add another." in page
    client.post(reverse("actor_list"), {"name": "Second", "avatar": str(avatar.pk)})
    assert Actor.objects.count() == 1

    edit_url = reverse("actor_edit", kwargs={"actor_id": actor.pk})
    editor = client.get(edit_url).content.decode()
    assert 'id="curve-editor"' in editor and 'id="shortcut-editor"' in editor and "dist/avatar_actor.js" in editor
    saved = client.post(edit_url, {
        "name": "Main",
        "avatar": str(avatar.pk),
        "faceTracking": "on",
        "sensitivity_gaze": "0.3",
        "sensitivity_eyebrows": "0.6",
        "sensitivity_mouth": "1.75",  # a boost: up to 2.0
        "curves": json.dumps({"jawOpen": {"inMin": 0, "inMax": 0.5, "outMin": 0, "outMax": 1}}),
        "shortcuts": json.dumps([{"key": "1", "label": "Joy", "weights": {"happy": 1}}]),
    })
    assert saved.status_code == 302
    actor.refresh_from_db()
    assert actor.settings["sensitivity"]["gaze"] == 0.3
    assert actor.settings["sensitivity"]["mouth"] == 1.75
    assert 'id="sens-mouth" name="sensitivity_mouth" type="range" min="0" max="2.0" step="0.05" value="1.75"' in (
        client.get(edit_url).content.decode())
    assert actor.settings["curves"]["jawOpen"]["outMax"] == 1.0
    assert actor.settings["shortcuts"][0]["weights"] == {"happy": 1.0}
    assert actor.settings["bodyTracking"] is False

    invalid = client.post(edit_url, {"name": "Main", "sensitivity_gaze": "7", "curves": "{not json", "shortcuts": "[]"})
    assert invalid.status_code == 200
    body = invalid.content.decode()
    assert "sensitivity.gaze" in body and "curves" in body
    actor.refresh_from_db()
    assert actor.settings["sensitivity"]["gaze"] == 0.3

    assert client.post(reverse("actor_delete", kwargs={"actor_id": actor.pk})).status_code == 302
    assert not Actor.objects.exists()


def test_actor_editor_in_korean(client_for, user):
    avatar = services.create_avatar_from_file(owner=user, file=SPHERE, filename="s.vrm")
    actor = actors.create_actor(user=user, name="Main", avatar_id=avatar.pk)
    client = client_for(user)
    client.post("/i18n/setlang/", {"language": "ko", "next": "/"})
    page = client.get(reverse("actor_edit", kwargs={"actor_id": actor.pk})).content.decode()
    assert "최대 2.0까지 작은 움직임을 키워요" in page
    assert "내 카메라로 미리 보기" in page
    assert json.dumps("카메라 미리 보기 중지")[1:-1] in page  # the script's strings (editor config, JSON)


def test_other_users_actor_pages_are_404(client_for, user, other_user):
    avatar = services.create_avatar_from_file(owner=other_user, file=SPHERE, filename="s.vrm")
    actor = actors.create_actor(user=other_user, name="Theirs", avatar_id=avatar.pk)
    client = client_for(user)
    assert client.get(reverse("actor_edit", kwargs={"actor_id": actor.pk})).status_code == 404
    assert client.post(reverse("actor_delete", kwargs={"actor_id": actor.pk})).status_code == 404
    assert Actor.objects.filter(pk=actor.pk).exists()


def test_admin_upload_and_pages(admin_client, user, _media_root):
    response = admin_client.post(
        reverse("admin:characters_avatar_add"),
        {"owner": str(user.pk), "file": upload_file("sphere.vrm", SPHERE.read_bytes()), "on_conflict": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    avatar = Avatar.objects.get(owner=user)
    assert avatar.vrm_version == "0.x" and len(media_files(_media_root)) == 2
    bad = admin_client.post(reverse("admin:characters_avatar_add"), {"owner": str(user.pk), "file": upload_file("x.vrm", b"junk" * 10)})
    assert bad.status_code == 200 and "glb_bad_magic" in bad.content.decode()
    assert admin_client.get(reverse("admin:characters_avatar_change", args=[avatar.pk])).status_code == 200
    assert admin_client.get(reverse("admin:characters_avatar_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:characters_actor_add")).status_code == 200
    assert admin_client.get(reverse("admin:characters_actor_changelist")).status_code == 200


def test_korean_flash_message_picks_the_particle_after_the_name(client_for, user, django_capture_on_commit_callbacks):
    avatar = services.create_avatar_from_file(owner=user, file=SPHERE, filename="s.vrm")
    Avatar.objects.filter(pk=avatar.pk).update(name="고양이")
    client = client_for(user)
    url = reverse("avatar_delete", kwargs={"avatar_id": avatar.pk})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True, HTTP_ACCEPT_LANGUAGE="ko")
    body = response.content.decode()
    assert "“고양이”를 삭제했어요" in body
    assert "(를)" not in body
