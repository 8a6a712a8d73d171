"""Character REST API: CRUD, validation limits, listing and search, copy, and authorization
(private: owner only, others 404; unlisted: by id; public: listed; only the owner changes)."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from characters.models import Avatar, Character
from characters.models.personas import CharacterLimits


def client_for(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


@pytest.fixture
def trio(user, other_user):
    """One character of each visibility, owned by other_user."""
    return {
        v: Character.objects.create(owner=other_user, name=f"{v.title()} One", visibility=v, description=f"{v} desc")
        for v in ("private", "unlisted", "public")
    }


@pytest.mark.django_db
def test_create_read_update_delete(api_client, user):
    body = {
        "name": "Rin", "category": "game", "source_work": "Starfall", "description": "A pilot.",
        "personality": "Bold", "tags": ["pilot", "space"], "alternate_greetings": ["Yo."],
        "builtin_avatar": "robot", "visibility": "public", "language": "en",
        "extensions": {"someone": {"x": [1, 2]}}, "scenario_counterpart": "Co-pilot",
    }
    response = api_client.post("/api/characters", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["is_owner"] and not data["is_preset"] and data["avatar_ref"] == "builtin:robot"
    assert data["links"]["page"] == f"/characters/{data['id']}/"
    c = Character.objects.get(pk=data["id"])
    assert c.owner == user and c.tags == ["pilot", "space"] and c.extensions == {"someone": {"x": [1, 2]}}

    response = api_client.patch(f"/api/characters/{c.pk}", {"personality": "Bolder", "visibility": "private"}, format="json")
    assert response.status_code == 200, response.json()
    c.refresh_from_db()
    assert c.personality == "Bolder" and c.visibility == "private" and c.description == "A pilot."

    assert api_client.get(f"/api/characters/{c.pk}").json()["personality"] == "Bolder"
    assert api_client.delete(f"/api/characters/{c.pk}").status_code == 204
    assert not Character.objects.filter(pk=c.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "n" * 101),
        ("description", "d" * 20001),
        ("likes", "l" * 2001),
        ("category", "spaceship"),
        ("visibility", "everyone"),
        ("builtin_avatar", "dragon"),
        ("tags", ["t"] * (CharacterLimits.MAX_TAGS + 1)),
        ("tags", ["t" * 51]),
        ("alternate_greetings", ["g" * 8001]),
        ("extensions", ["not", "an", "object"]),
        ("language", "fr"),
    ],
)
def test_create_validation(api_client, field, value):
    body = {"name": "Valid", field: value}
    response = api_client.post("/api/characters", body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    assert field in response.json()["details"]
    assert Character.objects.count() == 0


@pytest.mark.django_db
def test_extensions_size_and_depth_limits(api_client):
    deep: object = 1
    for _ in range(40):
        deep = {"a": deep}
    response = api_client.post("/api/characters", {"name": "X", "extensions": {"d": deep}}, format="json")
    assert response.status_code == 400 and "extensions" in response.json()["details"]
    response = api_client.post("/api/characters", {"name": "X", "extensions": {"big": "x" * 300_000}}, format="json")
    assert response.status_code == 400 and "extensions" in response.json()["details"]
    assert Character.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["multipart", "json"])
@pytest.mark.parametrize("value", ["null", "[]", "1", '"text"'])
def test_extensions_that_are_not_an_object_are_a_field_error(api_client, user, fmt, value):
    """A form body carries JSON as text: `extensions=null` used to reach the NOT NULL column (500)."""
    import json

    sent = value if fmt == "multipart" else json.loads(value)
    response = api_client.post("/api/characters", {"name": "X", "extensions": sent}, format=fmt)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid" and "extensions" in response.json()["details"]
    mine = Character.objects.create(owner=user, name="Mine")
    response = api_client.put(f"/api/characters/{mine.pk}", {"name": "Mine", "extensions": sent}, format=fmt)
    assert response.status_code == 400, response.content
    assert "extensions" in response.json()["details"]
    assert Character.objects.filter(name="X").count() == 0


@pytest.mark.django_db
def test_absurdly_nested_body_is_a_clean_400(api_client):
    body = '{"name": "x", "extensions": ' + "[" * 50_000 + "]" * 50_000 + "}"
    response = api_client.generic("POST", "/api/characters", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "json_too_deep"


@pytest.mark.django_db
def test_control_characters_are_stripped(api_client):
    response = api_client.post("/api/characters", {"name": "  Zed\x07\u202e ", "description": "a\r\nb\x1b"}, format="json")
    assert response.status_code == 201
    # control characters go; line ends are kept as sent (the same lossless rule as card import)
    assert (response.json()["name"], response.json()["description"]) == ("Zed", "a\r\nb")
    # NUL is refused outright (it cannot be stored in PostgreSQL text)
    response = api_client.post("/api/characters", {"name": "Nul\x00"}, format="json")
    assert response.status_code == 400 and "name" in response.json()["details"]


@pytest.mark.django_db
def test_authorization_reads(api_client, anon_api_client, trio):
    assert api_client.get(f"/api/characters/{trio['private'].pk}").status_code == 404
    assert api_client.get(f"/api/characters/{trio['private'].pk}").json()["code"] == "not_found"
    assert api_client.get(f"/api/characters/{trio['unlisted'].pk}").status_code == 200
    assert api_client.get(f"/api/characters/{trio['public'].pk}").status_code == 200
    # anonymous: public and unlisted by id, never private
    assert anon_api_client.get(f"/api/characters/{trio['public'].pk}").status_code == 200
    assert anon_api_client.get(f"/api/characters/{trio['unlisted'].pk}").status_code == 200
    assert anon_api_client.get(f"/api/characters/{trio['private'].pk}").status_code == 404
    # listing: only public ones of others
    names = {c["name"] for c in api_client.get("/api/characters?scope=all").json()["results"]}
    assert names == {"Public One"}
    names = {c["name"] for c in anon_api_client.get("/api/characters?scope=all").json()["results"]}
    assert names == {"Public One"}
    # derived endpoints follow the same rule
    for suffix in ("export?format=v2&as=json", "portrait"):
        assert api_client.get(f"/api/characters/{trio['private'].pk}/{suffix}").status_code == 404
    assert api_client.post(f"/api/characters/{trio['private'].pk}/copy").status_code == 404


@pytest.mark.django_db
def test_authorization_writes(api_client, anon_api_client, trio):
    for c in trio.values():
        expected = 404 if c.visibility == "private" else 403
        assert api_client.patch(f"/api/characters/{c.pk}", {"name": "Hacked"}, format="json").status_code == expected
        assert api_client.put(f"/api/characters/{c.pk}", {"name": "Hacked"}, format="json").status_code == expected
        assert api_client.delete(f"/api/characters/{c.pk}").status_code == expected
        assert anon_api_client.patch(f"/api/characters/{c.pk}", {"name": "Hacked"}, format="json").status_code in (401, 403)
        assert anon_api_client.delete(f"/api/characters/{c.pk}").status_code in (401, 403)
    assert Character.objects.filter(name="Hacked").count() == 0
    assert Character.objects.count() == 3


@pytest.mark.django_db
def test_presets_are_read_only_for_users(api_client):
    preset = Character.objects.create(owner=None, preset_key="p", name="Preset", visibility="public")
    assert api_client.get(f"/api/characters/{preset.pk}").json()["is_preset"] is True
    assert api_client.patch(f"/api/characters/{preset.pk}", {"name": "X"}, format="json").status_code == 403
    assert api_client.delete(f"/api/characters/{preset.pk}").status_code == 403
    preset.refresh_from_db()
    assert preset.name == "Preset"


@pytest.mark.django_db
def test_copy_a_preset(api_client, user):
    preset = Character.objects.create(owner=None, preset_key="p", name="Preset", visibility="public",
                                      personality="Kind", tags=["x"], builtin_avatar="cat")
    response = api_client.post(f"/api/characters/{preset.pk}/copy")
    assert response.status_code == 201, response.json()
    copy = Character.objects.get(pk=response.json()["id"])
    assert copy.owner == user and copy.visibility == "private" and copy.preset_key == ""
    assert (copy.name, copy.personality, copy.tags, copy.builtin_avatar) == ("Preset", "Kind", ["x"], "cat")
    assert api_client.patch(f"/api/characters/{copy.pk}", {"name": "Mine now"}, format="json").status_code == 200


@pytest.mark.django_db
def test_list_search_and_filters(api_client, user, other_user):
    Character.objects.create(owner=user, name="Alpha Knight", category="game", language="en")
    Character.objects.create(owner=user, name="Beta Witch", category="novel", source_work="Moon Book", language="en")
    Character.objects.create(owner=other_user, name="Gamma Public", category="game", visibility="public", language="ko")
    Character.objects.create(owner=None, preset_key="k", name="Preset Delta", category="original", visibility="public",
                             featured=True)
    Character.objects.create(owner=user, name="Draft Zeta", is_draft=True)

    def names(query: str = "") -> set[str]:
        response = api_client.get(f"/api/characters{query}")
        assert response.status_code == 200, response.json()
        return {c["name"] for c in response.json()["results"]}

    # The default: your own plus featured ones; scope=all adds every public one.
    assert names() == {"Alpha Knight", "Beta Witch", "Preset Delta"}
    assert names("?scope=all") == {"Alpha Knight", "Beta Witch", "Gamma Public", "Preset Delta"}
    assert names("?scope=mine") == {"Alpha Knight", "Beta Witch"}
    assert names("?scope=public") == {"Gamma Public", "Preset Delta"}
    assert names("?scope=presets") == {"Preset Delta"}
    assert names("?scope=all&category=game") == {"Alpha Knight", "Gamma Public"}
    assert names("?scope=all&search=moon") == {"Beta Witch"}
    assert names("?scope=all&search=GAMMA") == {"Gamma Public"}
    assert names("?scope=all&language=ko") == {"Gamma Public"}
    assert api_client.get("/api/characters?category=spaceship").status_code == 400
    assert api_client.get("/api/characters?scope=everything").status_code == 400
    page = api_client.get("/api/characters?scope=all&limit=2").json()
    assert page["count"] == 4 and len(page["results"]) == 2


@pytest.mark.django_db
def test_avatar_must_be_own_or_shared(api_client, user, other_user):
    def avatar(owner, shared: bool, n: int) -> Avatar:
        return Avatar.objects.create(
            owner=owner, name=f"A{n}", vrm_version="1.0", file_hash=f"{n:064d}", file_size=1,
            storage_key=f"k{n}", encryption_key_id="x", performance_rank="good", is_shared=shared,
            redistribution_allowed=shared,  # the library shares only what its license lets be redistributed
        )

    mine, foreign, shared = avatar(user, False, 1), avatar(other_user, False, 2), avatar(other_user, True, 3)
    ok = api_client.post("/api/characters", {"name": "A", "avatar": str(mine.pk)}, format="json")
    assert ok.status_code == 201 and ok.json()["avatar_ref"] == f"avatar:{mine.pk}"
    assert api_client.post("/api/characters", {"name": "B", "avatar": str(shared.pk)}, format="json").status_code == 201
    refused = api_client.post("/api/characters", {"name": "C", "avatar": str(foreign.pk)}, format="json")
    assert refused.status_code == 400 and "avatar" in refused.json()["details"]
    assert not Character.objects.filter(name="C").exists()


@pytest.mark.django_db
def test_character_count_limit(api_client, user, monkeypatch):
    monkeypatch.setattr(CharacterLimits, "MAX_CHARACTERS_PER_USER", 2)
    for name in ("One", "Two"):
        assert api_client.post("/api/characters", {"name": name}, format="json").status_code == 201
    response = api_client.post("/api/characters", {"name": "Three"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "character_limit_exceeded"
    assert Character.objects.filter(owner=user).count() == 2


@pytest.mark.django_db
def test_anonymous_cannot_create(anon_api_client):
    assert anon_api_client.post("/api/characters", {"name": "X"}, format="json").status_code in (401, 403)
    assert Character.objects.count() == 0


@pytest.mark.django_db
def test_openapi_documents_the_character_api(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    import json

    paths = json.loads(response.content)["paths"]
    for path in ("/api/characters", "/api/characters/{character_id}", "/api/characters/import",
                 "/api/characters/{character_id}/export", "/api/characters/wizard",
                 "/api/characters/wizard/{draft_id}/regenerate", "/api/characters/wizard/{draft_id}/finish"):
        assert path in paths, path
