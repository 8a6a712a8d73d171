"""Authorization matrix: Mallory (signed in, or with her API token) against everything Alice
owns, through the REST API, the pages and indirect paths. Private things answer 404 (as if
they did not exist); things she may only see answer 403 on change. These held when the review
was made; they stay here so a regression shows up at once."""
from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.characters.avatars.support import minimal_gltf

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_things(user, password):
    """Alice's private avatar, actor, characters, conversation, room and generation job."""
    import io

    from PIL import Image

    from characters.avatars import actors
    from characters.avatars import services as avatar_services
    from characters.models import Character
    from chat.models import Conversation
    from generation import services as generation_services
    from rooms.services import create_invite, create_room

    avatar = avatar_services.create_avatar_from_file(owner=user, file=io.BytesIO(minimal_gltf()), filename="mine.glb")
    actor = actors.create_actor(user=user, name="Me", avatar_id=avatar.pk)
    private = Character.objects.create(owner=user, name="Secret", visibility="private")
    public = Character.objects.create(owner=user, name="Open", visibility="public")
    draft = Character.objects.create(owner=user, name="Draft", is_draft=True)
    conversation = Conversation.objects.create(user=user, character=public, title="Mine")
    room = create_room(owner=user)
    _invite, token = create_invite(room=room, user=user)
    photo = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 150, 120)).save(photo, "JPEG")
    job = generation_services.create_job(owner=user, photo=photo.getvalue(), filename="me.jpg", options={})
    return {"avatar": avatar, "actor": actor, "private": private, "public": public, "draft": draft,
            "conversation": conversation, "room": room, "invite_token": token, "job": job}


def database_state() -> dict[str, list[dict]]:
    """Every row of every table of the feature apps and accounts, to prove a refused request wrote nothing."""
    from django.apps import apps

    state = {}
    for label in ("accounts", "characters", "chat", "rooms", "generation"):
        for model in apps.get_app_config(label).get_models():
            state[model._meta.label] = list(model.objects.order_by("pk").values())
    return state


@pytest.fixture
def mallory(other_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(other_user)
    return client


def test_rest_reads_of_private_things_are_404(mallory, alice_things):
    t = alice_things
    urls = [
        f"/api/avatars/{t['avatar'].pk}", f"/api/avatars/{t['avatar'].pk}/file", f"/api/avatars/{t['avatar'].pk}/thumbnail",
        f"/api/actors/{t['actor'].pk}",
        f"/api/characters/{t['private'].pk}", f"/api/characters/{t['private'].pk}/export",
        f"/api/characters/{t['private'].pk}/portrait", f"/api/characters/{t['draft'].pk}",
        f"/api/characters/wizard/{t['draft'].pk}",
        f"/api/chat/conversations/{t['conversation'].pk}", f"/api/chat/conversations/{t['conversation'].pk}/messages",
        f"/api/chat/conversations/{t['conversation'].pk}/summaries",
        f"/api/generate/{t['job'].pk}", f"/api/generate/status/{t['job'].pk}", f"/api/generate/{t['job'].pk}/photo",
        f"/api/generate/{t['job'].pk}/result.vrm", f"/api/generate/{t['job'].pk}/stages/ingest/preview",
    ]
    for url in urls:
        response = mallory.get(url)
        assert response.status_code == 404, (url, response.status_code)
        assert response.json()["code"] == "not_found" or response.json()["code"].endswith("not_found"), url


def test_rest_writes_to_private_things_are_404_and_change_nothing(mallory, alice_things):
    from characters.models import Actor, Avatar, Character
    from chat.models import Conversation
    from generation.models import GenerationJob

    t = alice_things
    before = database_state()
    calls = [
        ("patch", f"/api/avatars/{t['avatar'].pk}", {"name": "pwned", "is_shared": True}),
        ("delete", f"/api/avatars/{t['avatar'].pk}", None),
        ("patch", f"/api/actors/{t['actor'].pk}", {"name": "pwned"}),
        ("delete", f"/api/actors/{t['actor'].pk}", None),
        ("patch", f"/api/characters/{t['private'].pk}", {"name": "pwned"}),
        ("delete", f"/api/characters/{t['private'].pk}", None),
        ("post", f"/api/characters/{t['private'].pk}/copy", None),
        ("post", f"/api/characters/wizard/{t['draft'].pk}/finish", {"name": "pwned"}),
        ("patch", f"/api/chat/conversations/{t['conversation'].pk}", {"title": "pwned"}),
        ("delete", f"/api/chat/conversations/{t['conversation'].pk}", None),
        ("post", f"/api/chat/conversations/{t['conversation'].pk}/messages", {"text": "hi"}),
        ("post", f"/api/chat/conversations/{t['conversation'].pk}/cancel", None),
        ("post", f"/api/generate/{t['job'].pk}/cancel", None),
        ("post", f"/api/generate/{t['job'].pk}/retry", None),
        ("post", f"/api/generate/{t['job'].pk}/recrop", {"crop": {"x": 0.5, "y": 0.5, "size": 0.5}}),
        ("delete", f"/api/generate/{t['job'].pk}", None),
    ]
    for method, url, body in calls:
        response = getattr(mallory, method)(url, body, format="json") if body is not None else getattr(mallory, method)(url)
        assert response.status_code == 404, (method, url, response.status_code)
    assert database_state() == before
    assert Avatar.objects.get(pk=t["avatar"].pk).name != "pwned"
    assert Actor.objects.filter(pk=t["actor"].pk, name="Me").exists()
    assert Character.objects.filter(pk=t["private"].pk, name="Secret").exists()
    assert Character.objects.filter(pk=t["draft"].pk, is_draft=True).exists()
    assert Conversation.objects.filter(pk=t["conversation"].pk, title="Mine", message_count=0).exists()
    assert GenerationJob.objects.filter(pk=t["job"].pk, cancel_requested=False).exists()


def test_visible_but_not_owned_is_403_on_change(mallory, alice_things):
    public = alice_things["public"]
    before = database_state()
    assert mallory.get(f"/api/characters/{public.pk}").status_code == 200
    assert mallory.patch(f"/api/characters/{public.pk}", {"name": "pwned"}, format="json").status_code == 403
    assert mallory.delete(f"/api/characters/{public.pk}").status_code == 403
    room = alice_things["room"]
    assert mallory.post(f"/api/rooms/{room.code}/close").status_code == 403
    assert mallory.post(f"/api/rooms/{room.code}/invites").status_code == 403
    assert database_state() == before


def test_indirect_paths_with_foreign_ids(mallory, other_user, alice_things):
    from characters.models import Actor, Character
    from chat.models import Conversation

    t = alice_things
    before = database_state()
    # An actor, a character or a conversation built on Alice's private things.
    assert mallory.post("/api/actors", {"name": "x", "avatar": str(t["avatar"].pk)}, format="json").status_code == 404
    assert mallory.post("/api/characters", {"name": "x", "avatar": str(t["avatar"].pk)}, format="json").status_code == 400
    assert mallory.post("/api/chat/conversations", {"character": str(t["private"].pk)}, format="json").status_code == 404
    assert mallory.post("/api/chat/conversations", {"character": str(t["draft"].pk)}, format="json").status_code == 404
    assert not Actor.objects.filter(owner=other_user).exists()
    assert not Character.objects.filter(owner=other_user).exists()
    assert not Conversation.objects.filter(user=other_user).exists()
    assert database_state() == before
    # resolve: a foreign id is "gone", no download link.
    body = {"avatars": [{"id": str(t["avatar"].pk), "fileHash": "0" * 64}]}
    resolved = mallory.post("/api/avatars/resolve", body, format="json").json()
    assert resolved["gone"] == [str(t["avatar"].pk)] and resolved["changed"] == []


def test_signed_download_links(user, alice_things):
    import io

    from characters.avatars import links
    from characters.avatars import services as avatar_services
    from tests.characters.avatars.support import build_glb, split_glb

    avatar = alice_things["avatar"]
    url, _ttl = links.signed_file_url(avatar=avatar)
    token = url.split("token=")[1]
    anonymous = APIClient()
    assert anonymous.get(url).status_code == 200
    # A link for one avatar does not open another, and a tampered one opens nothing.
    gltf, bin_chunk = split_glb(minimal_gltf())
    gltf["asset"]["generator"] = "another"
    second = avatar_services.create_avatar_from_file(owner=user, file=io.BytesIO(build_glb(gltf, bin_chunk)), filename="b.glb")
    assert anonymous.get(f"/api/avatars/{second.pk}/file?token={token}").status_code == 403
    assert anonymous.get(f"{url[:-3]}abc").status_code == 403
    # Replayed after delete: gone.
    alice_things["actor"].delete()
    avatar_services.delete_avatar(user=user, avatar_id=avatar.pk)
    assert anonymous.get(url).status_code == 404


def test_pages_of_private_things_are_404(client, other_user, password, alice_things):
    t = alice_things
    assert client.login(email=other_user.email, password=password)
    before = database_state()
    for url in (
        f"/avatars/{t['avatar'].pk}/", f"/avatars/{t['avatar'].pk}/delete/", f"/avatars/actors/{t['actor'].pk}/",
        f"/characters/{t['private'].pk}/", f"/characters/{t['private'].pk}/portrait/", f"/characters/new/{t['draft'].pk}/",
        f"/chat/{t['conversation'].pk}/", f"/chat/{t['conversation'].pk}/delete/", f"/generate/{t['job'].pk}/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/characters/{t['public'].pk}/edit/", {"name": "pwned"}).status_code == 403
    assert client.post(f"/avatars/actors/{t['actor'].pk}/delete/").status_code == 404
    assert client.post(f"/generate/{t['job'].pk}/cancel").status_code == 404
    assert database_state() == before


def test_guests_reach_only_their_own_room(user, alice_things):
    from rooms.services import create_room

    other_room = create_room(owner=user)
    guest = Client()
    response = guest.post("/api/rooms/invites/redeem", json.dumps({"token": alice_things["invite_token"], "name": "G"}),
                          content_type="application/json")
    assert response.status_code == 200
    assert guest.get(f"/rooms/{alice_things['room'].code}/").status_code == 200
    before = database_state()
    assert guest.get(f"/rooms/{other_room.code}/").status_code == 302  # to the log-in page
    assert guest.get(f"/api/rooms/{other_room.code}/ice-servers").status_code == 401
    assert guest.post(f"/api/rooms/{other_room.code}/practice").status_code == 401
    assert database_state() == before


def test_open_redirects_are_refused(client, user, password):
    response = client.post("/accounts/login/", {"username": user.email, "password": password, "next": "https://evil.example/"})
    assert response.status_code == 302 and not response["Location"].startswith("https://evil")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example/"):
        switched = client.post("/i18n/setlang/", {"language": "ko", "next": target})
        assert "evil.example" not in switched.get("Location", ""), target
