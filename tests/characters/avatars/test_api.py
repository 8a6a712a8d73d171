"""REST API of the avatar library: upload, list, detail, file with ETag/304, resolve, actors."""
from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from characters.avatars import actors, services
from characters.models import Actor, Avatar
from tests.characters.avatars.support import GODETTE, ROBOT, SPHERE, media_files, modified, upload_file

pytestmark = pytest.mark.django_db

LIST = "/api/avatars"


def upload(client: APIClient, path=GODETTE, data: bytes | None = None, filename: str | None = None, **fields):
    body = {"file": upload_file(filename or path.name, data if data is not None else path.read_bytes()), **fields}
    return client.post(LIST, body, format="multipart")


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_upload_and_detail(api_client, user):
    response = upload(api_client, GODETTE)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["version"] == "0.x"
    assert data["name"] == "Low-Poly Godette"
    assert data["file_hash"] == hashlib.sha256(GODETTE.read_bytes()).hexdigest()
    assert data["performance_rank"] == "excellent"
    assert data["meta"]["humanoid"]["count"] == 45
    assert data["license"]["authors"] == ["SirRichard94"]
    assert {row["key"] for row in data["license_card"]} >= {"avatarPermission", "commercialUsage", "creditNotation", "redistribution", "modification", "violentUsage"}
    assert data["is_owner"] is True
    assert data["warnings"] == []
    # Declared (0.x "Allow" = personalProfit, as UniVRM migrates it) vs defaulted rows, and the
    # CC_BY name's implications apart, labelled as such.
    rows = {row["key"]: row for row in data["license_card"]}
    assert rows["commercialUsage"]["declared"] is True and rows["commercialUsage"]["state"] == "limited"
    assert rows["redistribution"]["declared"] is False and rows["redistribution"]["state"] == "denied"
    assert "not declared" in rows["redistribution"]["value"]
    # Codes let another page say the same in its own language (the call's license card).
    assert (rows["commercialUsage"]["code"], rows["redistribution"]["code"]) == ("personalProfit", "false")
    implies = data["license_implies"]
    assert implies["license"] == "CC_BY" and implies["url"] == "https://creativecommons.org/licenses/by/4.0/"
    assert "CC_BY" in implies["label"] and "implies" in implies["label"]
    assert {r["key"]: r["state"] for r in implies["rows"]} == {
        "creditNotation": "required", "redistribution": "allowed", "modification": "allowed"}
    assert data["commercial_use_allowed"] is True and data["redistribution_allowed"] is False
    avatar = Avatar.objects.get(pk=data["id"])
    assert avatar.owner == user

    detail = api_client.get(f"{LIST}/{avatar.pk}")
    assert detail.status_code == 200 and detail.json()["id"] == str(avatar.pk)
    listing = api_client.get(LIST).json()
    assert listing["count"] == 1
    assert [a["id"] for a in listing["results"]] == [str(avatar.pk)]


def test_upload_warnings_are_translated_messages(api_client):
    data = upload(api_client, SPHERE).json()
    codes = {w["code"]: w["message"] for w in data["warnings"]}
    assert "no_finger_bones" in codes and "finger" in codes["no_finger_bones"]


def test_upload_needs_a_file(api_client):
    response = api_client.post(LIST, {"name": "x"}, format="multipart")
    assert response.status_code == 400 and response.json()["code"] == "avatar_file_required"


def test_upload_malformed_answers_with_code_and_leaves_nothing(api_client, _media_root):
    response = upload(api_client, data=b"not a glb at all", filename="x.vrm")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "glb_bad_magic" and body["message"] and body["details"]["hint"]
    assert not Avatar.objects.exists() and media_files(_media_root) == []


def test_upload_two_gigabyte_buffer(api_client, _media_root):
    data = modified(SPHERE, lambda g: g["buffers"][0].update(byteLength=2**31))
    response = upload(api_client, data=data, filename="big.vrm")
    assert response.status_code == 400 and response.json()["code"] == "glb_out_of_bounds"
    assert not Avatar.objects.exists() and media_files(_media_root) == []


def test_upload_refused_from_content_length_over_plan(api_client, user):
    user.plan.max_avatar_bytes = 1000
    user.plan.save()
    response = upload(api_client, GODETTE)
    assert response.status_code == 413
    assert response.json()["code"] == "avatar_too_large"
    assert response.json()["details"]["max_bytes"] == 1000


def test_duplicate_and_conflict_over_api(api_client, _media_root):
    first = upload(api_client, SPHERE).json()
    again = upload(api_client, SPHERE, filename="again.vrm")
    assert again.status_code == 409
    assert again.json()["code"] == "avatar_duplicate"
    assert again.json()["details"]["existing_id"] == first["id"]

    variant = modified(SPHERE, lambda g: g["extensions"]["VRM"]["meta"].update(version="2"))
    conflict = upload(api_client, data=variant, filename="sphere.vrm")
    assert conflict.status_code == 409 and conflict.json()["code"] == "avatar_name_conflict"
    assert conflict.json()["details"]["options"] == ["overwrite", "keep_both"]
    assert Avatar.objects.count() == 1 and len(media_files(_media_root)) == 2

    both = upload(api_client, data=variant, filename="sphere.vrm", on_conflict="keep_both")
    assert both.status_code == 201 and both.json()["name"] == "sphere (2)"
    bad = upload(api_client, data=variant, filename="sphere.vrm", on_conflict="nope")
    assert bad.status_code == 400


def test_overwrite_over_api(api_client):
    first = upload(api_client, SPHERE).json()
    variant = modified(SPHERE, lambda g: g["extensions"]["VRM"]["meta"].update(version="2"))
    response = upload(api_client, data=variant, filename="sphere.vrm", on_conflict="overwrite")
    assert response.status_code == 201
    assert response.json()["id"] == first["id"]
    assert response.json()["file_hash"] == hashlib.sha256(variant).hexdigest()


def test_anonymous_is_refused(anon_api_client, api_client):
    avatar_id = upload(api_client, SPHERE).json()["id"]
    assert anon_api_client.get(LIST).status_code in (401, 403)
    response = anon_api_client.get(f"{LIST}/{avatar_id}/file")
    assert response.status_code in (401, 403) and response.json()["code"] == "not_authenticated"
    assert upload(anon_api_client, SPHERE).status_code in (401, 403)


def test_other_users_get_404(api_client, other_user):
    avatar_id = upload(api_client, SPHERE).json()["id"]
    other = APIClient()
    other.force_authenticate(other_user)
    for url in (f"{LIST}/{avatar_id}", f"{LIST}/{avatar_id}/file", f"{LIST}/{avatar_id}/thumbnail"):
        response = other.get(url)
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert other.patch(f"{LIST}/{avatar_id}", {"name": "mine"}, format="json").status_code == 404
    assert other.delete(f"{LIST}/{avatar_id}").status_code == 404
    assert other.get(LIST).json()["results"] == []
    assert Avatar.objects.filter(pk=avatar_id).exists()


def test_file_download_etag_and_304(api_client):
    data = upload(api_client, GODETTE).json()
    url = f"{LIST}/{data['id']}/file"
    response = api_client.get(url, HTTP_ACCEPT="model/gltf-binary")
    assert response.status_code == 200
    assert body_of(response) == GODETTE.read_bytes()
    etag = f'"{data["file_hash"]}"'
    assert response["ETag"] == etag
    assert "private" in response["Cache-Control"]
    assert response["Content-Length"] == str(GODETTE.stat().st_size)
    assert response["Content-Type"] == "model/gltf-binary"
    assert "attachment" in response["Content-Disposition"]

    cached = api_client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert cached.status_code == 304 and body_of(cached) == b""
    assert cached["ETag"] == etag
    assert api_client.get(url, HTTP_IF_NONE_MATCH=f"W/{etag}").status_code == 304
    assert api_client.get(url, HTTP_IF_NONE_MATCH=f'"other", {etag}').status_code == 304
    stale = api_client.get(url, HTTP_IF_NONE_MATCH='"' + "0" * 64 + '"')
    assert stale.status_code == 200 and body_of(stale) == GODETTE.read_bytes()


def test_thumbnail(api_client):
    data = upload(api_client, GODETTE).json()
    response = api_client.get(data["thumbnail_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response.content[8:12] == b"WEBP"
    assert api_client.get(data["thumbnail_url"], HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_resolve(api_client, anon_api_client, other_user):
    godette = upload(api_client, GODETTE).json()
    sphere = upload(api_client, SPHERE).json()
    robot = upload(api_client, ROBOT).json()
    services.delete_avatar(user=Avatar.objects.get(pk=robot["id"]).owner, avatar_id=robot["id"])
    foreign = services.create_avatar_from_file(owner=other_user, file=ROBOT, filename="robot.vrm")
    response = api_client.post(
        f"{LIST}/resolve",
        {"avatars": [
            {"id": godette["id"], "file_hash": godette["file_hash"]},
            {"id": sphere["id"], "fileHash": "a" * 64},  # stale cache, camelCase alias
            {"id": robot["id"], "file_hash": robot["file_hash"]},  # deleted
            {"id": str(foreign.pk), "file_hash": foreign.file_hash},  # someone else's private avatar
        ]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["current"] == [godette["id"]]
    assert body["gone"] == [robot["id"], str(foreign.pk)]
    [changed] = body["changed"]
    assert changed["id"] == sphere["id"] and changed["file_hash"] == sphere["file_hash"]
    assert changed["expires_in"] > 0
    assert changed["url"].startswith("http://testserver/api/avatars/")
    # the short-lived URL works without a session and serves the decrypted bytes
    download = anon_api_client.get(changed["url"].removeprefix("http://testserver"))
    assert download.status_code == 200 and body_of(download) == SPHERE.read_bytes()
    assert download["ETag"] == f'"{sphere["file_hash"]}"'
    tampered = anon_api_client.get(changed["url"].removeprefix("http://testserver") + "0")
    assert tampered.status_code == 403 and tampered.json()["code"] == "download_link_invalid"


def test_resolve_validation(api_client):
    assert api_client.post(f"{LIST}/resolve", {"avatars": [{"id": "nope", "file_hash": "x"}]}, format="json").status_code == 400
    assert api_client.post(f"{LIST}/resolve", {"avatars": [{"id": "7f0c6c56-8a8f-4c44-9a3c-2ef7d2d1e9b0"}]}, format="json").status_code == 400
    too_many = [{"id": "7f0c6c56-8a8f-4c44-9a3c-2ef7d2d1e9b0", "file_hash": "a" * 64}] * 501
    assert api_client.post(f"{LIST}/resolve", {"avatars": too_many}, format="json").status_code == 400


def test_patch_share_and_shared_scope(api_client, user, other_user):
    # The robot (VRM 1.0) declares allowRedistribution; a VRM 0.x file cannot declare it and keeps
    # the conservative default (no redistribution), whatever its license name implies.
    avatar_id = upload(api_client, ROBOT).json()["id"]
    response = api_client.patch(f"{LIST}/{avatar_id}", {"is_shared": True, "name": "Ball"}, format="json")
    assert response.status_code == 200 and response.json()["is_shared"] is True and response.json()["name"] == "Ball"
    other = APIClient()
    other.force_authenticate(other_user)
    shared = other.get(LIST, {"scope": "shared"}).json()["results"]
    assert [a["id"] for a in shared] == [avatar_id]
    assert shared[0]["is_owner"] is False
    assert other.get(f"{LIST}/{avatar_id}").json()["actors"] == []
    file_response = other.get(f"{LIST}/{avatar_id}/file")
    assert file_response.status_code == 200 and body_of(file_response) == ROBOT.read_bytes()
    denied = other.patch(f"{LIST}/{avatar_id}", {"name": "stolen"}, format="json")
    assert denied.status_code == 403 and denied.json()["code"] == "not_owner"


def test_patch_share_refused_for_a_vrm0_file_that_cannot_declare_redistribution(api_client):
    avatar_id = upload(api_client, SPHERE).json()["id"]  # CC0 by name, redistribution not declared
    response = api_client.patch(f"{LIST}/{avatar_id}", {"is_shared": True}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "license_forbids_sharing"


def test_patch_share_refused_by_license(api_client):
    data = modified(ROBOT, lambda g: g["extensions"]["VRMC_vrm"]["meta"].update(allowRedistribution=False))
    avatar_id = upload(api_client, data=data, filename="robot.vrm").json()["id"]
    response = api_client.patch(f"{LIST}/{avatar_id}", {"is_shared": True}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "license_forbids_sharing"
    assert Avatar.objects.get(pk=avatar_id).is_shared is False


def test_delete_over_api(api_client, _media_root):
    avatar_id = upload(api_client, SPHERE).json()["id"]
    actor = api_client.post("/api/actors", {"name": "Main", "avatar": avatar_id}, format="json")
    assert actor.status_code == 201
    refused = api_client.delete(f"{LIST}/{avatar_id}")
    assert refused.status_code == 409
    assert refused.json()["code"] == "avatar_in_use"
    assert refused.json()["details"]["actors"] == [{"id": actor.json()["id"], "name": "Main"}]
    assert api_client.delete(f"/api/actors/{actor.json()['id']}").status_code == 204
    assert api_client.delete(f"{LIST}/{avatar_id}").status_code == 204
    assert not Avatar.objects.exists()


def test_actor_crud(api_client, user):
    avatar_id = upload(api_client, GODETTE).json()["id"]
    settings = {
        "faceTracking": True,
        "sensitivity": {"gaze": 0.5, "eyebrows": 0.2, "mouth": 1},
        "curves": {"jawOpen": {"inMin": 0, "inMax": 0.5, "outMin": 0, "outMax": 1}},
        "shortcuts": [{"key": "ctrl+1", "label": "Smile", "weights": {"happy": 1, "aa": 0.3}}],
    }
    created = api_client.post("/api/actors", {"name": "Godette", "avatar": avatar_id, "settings": settings}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["avatar"] == avatar_id and body["avatar_name"] == "Low-Poly Godette"
    assert body["settings"]["sensitivity"] == {"gaze": 0.5, "eyebrows": 0.2, "mouth": 1.0}
    assert body["settings"]["curves"]["jawOpen"]["gamma"] == 1.0
    assert body["settings"]["shortcuts"][0]["key"] == "Ctrl+1"
    assert body["settings"]["bodyTracking"] is False
    actor_id = body["id"]

    assert api_client.get("/api/actors").json()[0]["id"] == actor_id
    patched = api_client.patch(f"/api/actors/{actor_id}", {"name": "Renamed", "settings": {"faceTracking": False}}, format="json")
    assert patched.status_code == 200 and patched.json()["name"] == "Renamed"
    assert patched.json()["settings"]["faceTracking"] is False
    invalid = api_client.patch(f"/api/actors/{actor_id}", {"settings": {"sensitivity": {"gaze": 2.5}}}, format="json")
    assert invalid.status_code == 400
    assert invalid.json()["code"] == "actor_settings_invalid"
    assert "sensitivity.gaze" in invalid.json()["details"]
    assert Actor.objects.get(pk=actor_id).settings["faceTracking"] is False
    assert api_client.get(f"/api/actors/{actor_id}").status_code == 200
    assert api_client.delete(f"/api/actors/{actor_id}").status_code == 204
    assert not Actor.objects.exists()


def test_actor_limit_over_api(api_client):
    avatar_id = upload(api_client, SPHERE).json()["id"]
    assert api_client.post("/api/actors", {"name": "One", "avatar": avatar_id}, format="json").status_code == 201
    second = api_client.post("/api/actors", {"name": "Two", "avatar": avatar_id}, format="json")
    assert second.status_code == 403
    assert second.json()["code"] == "actor_slots_exceeded"
    assert second.json()["details"]["allowed"] == 1
    assert Actor.objects.count() == 1


def test_actor_needs_own_avatar(api_client, other_user):
    foreign = services.create_avatar_from_file(owner=other_user, file=ROBOT, filename="r.vrm")
    services.update_avatar(user=other_user, avatar_id=foreign.pk, is_shared=True)
    response = api_client.post("/api/actors", {"name": "X", "avatar": str(foreign.pk)}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "avatar_not_found"
    assert not Actor.objects.exists()


def test_other_users_actor_is_404(api_client, other_user):
    avatar = services.create_avatar_from_file(owner=other_user, file=SPHERE, filename="s.vrm")
    actor = actors.create_actor(user=other_user, name="Theirs", avatar_id=avatar.pk)
    assert api_client.get(f"/api/actors/{actor.pk}").status_code == 404
    assert api_client.patch(f"/api/actors/{actor.pk}", {"name": "x"}, format="json").status_code == 404
    assert api_client.delete(f"/api/actors/{actor.pk}").status_code == 404
    assert Actor.objects.get(pk=actor.pk).name == "Theirs"


def test_openapi_documents_the_avatar_api(api_client):
    response = api_client.get(reverse("api:schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/api/avatars", "/api/avatars/{avatar_id}", "/api/avatars/{avatar_id}/file", "/api/avatars/resolve", "/api/actors", "/api/actors/{actor_id}"):
        assert path in text, path


def test_large_upload_streams_through_a_temporary_file(api_client, tmp_path, settings):
    """Over FILE_UPLOAD_MAX_MEMORY_SIZE the body goes to a temp file; the service reads it from there."""
    from bench.vrm_ingest import build_big_vrm

    path = tmp_path / "big.vrm"
    size = build_big_vrm(path, target=settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 1_000_000)
    with open(path, "rb") as fh:
        response = api_client.post(LIST, {"file": fh}, format="multipart")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["file_size"] == size
    assert data["meta"]["stats"]["images"] == 6
    assert data["file_hash"] == hashlib.sha256(path.read_bytes()).hexdigest()
    download = api_client.get(f"{LIST}/{data['id']}/file")
    assert hashlib.sha256(body_of(download)).hexdigest() == data["file_hash"]
