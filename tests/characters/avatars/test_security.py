"""Avatar library against a hostile user: names from files cannot spoof a download's file
type, and other users' avatars stay out of reach through indirect paths."""
from __future__ import annotations

import pytest

from characters.models import Avatar
from tests.characters.avatars.support import SPHERE, minimal_gltf, modified, upload_file

pytestmark = pytest.mark.django_db

RLO = "\u202e"


def test_bidi_override_in_a_file_name_is_dropped(api_client, user):
    response = api_client.post("/api/avatars", {"file": upload_file(f"invoice{RLO}exe.glb", minimal_gltf())}, format="multipart")
    assert response.status_code == 201, response.json()
    avatar = Avatar.objects.get(owner=user)
    assert avatar.name == "invoiceexe"
    download = api_client.get(f"/api/avatars/{avatar.pk}/file")
    assert RLO not in download["Content-Disposition"] and "%E2%80%AE" not in download["Content-Disposition"]


def test_bidi_override_in_the_vrm_title_and_a_rename_is_dropped(api_client, user):
    def title(gltf):
        gltf["extensions"]["VRM"]["meta"]["title"] = f"Nice{RLO}\u2066 avatar\x85"

    data = modified(SPHERE, title)
    response = api_client.post("/api/avatars", {"file": upload_file("sphere.vrm", data)}, format="multipart")
    assert response.status_code == 201, response.json()
    avatar = Avatar.objects.get(owner=user)
    assert avatar.name == "Nice avatar"
    renamed = api_client.patch(f"/api/avatars/{avatar.pk}", {"name": f"x{RLO}gpj.vrm"}, format="json")
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "xgpj.vrm"
