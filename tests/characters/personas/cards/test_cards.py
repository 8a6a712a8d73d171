"""Character Card import/export: round trips (V2 JSON, V2 PNG, V3 PNG, V3 JSON), V3 preferred over
V2, foreign cards mapped, unknown extensions kept, our fields under extensions.avatarforge."""
from __future__ import annotations

import base64
import io
import json
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, PngImagePlugin

from characters.models import Character
from characters.personas.cards import card_png, cards

ROUND_TRIP_FIELDS = [
    "name", "nickname", "category", "source_work", "gender", "species", "age", "height", "job", "language",
    "description", "personality", "appearance", "likes", "dislikes", "speech_style", "thoughts", "features",
    "habits", "guidelines", "worldview", "first_message", "example_dialogue", "scenario_counterpart",
    "scenario_situation", "scenario_background", "alternate_greetings", "tags", "system_prompt",
    "post_history_instructions", "creator_notes", "creator", "character_version", "extensions", "voice_id",
    "builtin_avatar",
]


def png_with_chunks(chunks: dict[str, bytes], size: tuple[int, int] = (8, 8)) -> bytes:
    img = Image.new("RGB", size, (200, 100, 50))
    info = PngImagePlugin.PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    out = io.BytesIO()
    img.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def b64card(card: dict) -> bytes:
    return base64.b64encode(json.dumps(card).encode())


def text_chunks(png: bytes) -> dict[str, str]:
    """All tEXt chunks of a PNG, read independently of the code under test."""
    pos, found = 8, {}
    while pos < len(png):
        length, ctype = struct.unpack(">I4s", png[pos:pos + 8])
        body = png[pos + 8:pos + 8 + length]
        if ctype == b"tEXt":
            key, _, value = body.partition(b"\0")
            found[key.decode()] = value.decode("latin-1")
        pos += 12 + length
    return found


@pytest.fixture
def rich_character(user):
    return Character.objects.create(
        owner=user, name="Ada Quill", nickname="Quill", category="novel", source_work="The Ink Years",
        gender="Female", species="Human", age="34", height="170 cm", job="Cartographer", language="en",
        description="A mapmaker who draws {{user}} into her maps.", personality="Precise, wry.",
        appearance="Ink-stained gloves.", likes="Compasses", dislikes="Fog", speech_style="Dry wit.",
        thoughts="Every coast lies a little.", features="Perfect memory for places.", habits="Taps her pen.",
        guidelines="Stay in character as {{char}}.", worldview="An archipelago of moving islands.",
        first_message="Hello, {{user}}. Lost again?", example_dialogue="<START>\n{{user}}: Hi\n{{char}}: Hm.",
        scenario_counterpart="A new apprentice", scenario_situation="The map room at dawn.",
        scenario_background="The islands moved overnight.", alternate_greetings=["Back so soon?", "Sit."],
        tags=["maps", "fantasy"], system_prompt="Write in present tense.", post_history_instructions="Be brief.",
        creator_notes="Made for testing <b>bold</b>.", creator="tester", character_version="2.1",
        extensions={"depth_prompt": {"prompt": "x", "depth": 4}, "talkativeness": "0.5", "world": "Isles"},
        voice_id="voice-7", builtin_avatar="fox",
    )


def import_via_api(api_client, data: bytes, name: str, content_type: str):
    upload = SimpleUploadedFile(name, data, content_type=content_type)
    return api_client.post("/api/characters/import", {"file": upload}, format="multipart")


def assert_same_character(imported: Character, original: Character) -> None:
    for name in ROUND_TRIP_FIELDS:
        assert getattr(imported, name) == getattr(original, name), name


def export(api_client, character, fmt: str, kind: str):
    response = api_client.get(f"/api/characters/{character.pk}/export?format={fmt}&as={kind}")
    assert response.status_code == 200, response.content[:300]
    return response


@pytest.mark.django_db
def test_round_trip_v2_json(api_client, rich_character):
    response = export(api_client, rich_character, "v2", "json")
    assert response["Content-Type"] == "application/json"
    assert 'filename="Ada-Quill.v2.json"' in response["Content-Disposition"]
    card = json.loads(response.content)
    assert card["spec"] == "chara_card_v2" and card["spec_version"] == "2.0"
    data = card["data"]
    assert data["name"] == "Ada Quill"
    assert data["first_mes"] == "Hello, {{user}}. Lost again?"
    assert data["mes_example"] == rich_character.example_dialogue
    assert data["alternate_greetings"] == ["Back so soon?", "Sit."]
    assert data["tags"] == ["maps", "fantasy"]
    assert data["creator"] == "tester" and data["character_version"] == "2.1"
    # Card readers that only know description still get the whole sheet.
    assert "Ink-stained gloves." in data["description"] and "Compasses" in data["description"]
    assert "The map room at dawn." in data["scenario"]
    # unknown extensions untouched, ours under extensions.avatarforge
    assert data["extensions"]["depth_prompt"] == {"prompt": "x", "depth": 4}
    assert data["extensions"]["talkativeness"] == "0.5"
    assert data["extensions"]["avatarforge"]["fields"]["job"] == "Cartographer"
    assert "nickname" not in data and "assets" not in data  # V3-only keys stay out of V2

    before = Character.objects.count()
    response = import_via_api(api_client, response.content, "card.json", "application/json")
    assert response.status_code == 201, response.json()
    assert Character.objects.count() == before + 1
    imported = Character.objects.get(pk=response.json()["id"])
    assert_same_character(imported, rich_character)
    assert imported.visibility == "private" and imported.owner == rich_character.owner


@pytest.mark.django_db
def test_round_trip_v2_png(api_client, rich_character):
    response = export(api_client, rich_character, "v2", "png")
    assert response["Content-Type"] == "image/png"
    chunks = text_chunks(response.content)
    assert set(chunks) == {"chara"}
    card = json.loads(base64.b64decode(chunks["chara"]))
    assert card["spec"] == "chara_card_v2"
    Image.open(io.BytesIO(response.content)).verify()  # a real picture (generated card image)

    response = import_via_api(api_client, response.content, "ada.png", "image/png")
    assert response.status_code == 201, response.json()
    imported = Character.objects.get(pk=response.json()["id"])
    assert_same_character(imported, rich_character)
    # the card's picture became the portrait
    assert imported.portrait_key
    portrait = api_client.get(f"/api/characters/{imported.pk}/portrait")
    assert portrait.status_code == 200 and portrait["Content-Type"] == "image/png"
    assert card_png.is_png(portrait.content)


@pytest.mark.django_db
def test_round_trip_v3_png(api_client, rich_character):
    rich_character.card_extras = {
        "group_only_greetings": ["Hello, everyone."],
        "creator_notes_multilingual": {"ko": "테스트 메모"},
        "source": ["https://example.com/ada"],
        "assets": [{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}],
        "character_book": {"entries": [{"keys": ["isle"], "content": "Isles move."}]},
    }
    rich_character.save()
    response = export(api_client, rich_character, "v3", "png")
    chunks = text_chunks(response.content)
    assert set(chunks) == {"ccv3", "chara"}  # V2 kept for older readers
    v3 = json.loads(base64.b64decode(chunks["ccv3"]))
    assert v3["spec"] == "chara_card_v3" and v3["spec_version"] == "3.0"
    assert v3["data"]["nickname"] == "Quill"
    assert v3["data"]["group_only_greetings"] == ["Hello, everyone."]
    assert isinstance(v3["data"]["creation_date"], int)

    response = import_via_api(api_client, response.content, "ada.png", "image/png")
    assert response.status_code == 201, response.json()
    imported = Character.objects.get(pk=response.json()["id"])
    assert_same_character(imported, rich_character)
    for key in ("group_only_greetings", "creator_notes_multilingual", "source", "assets", "character_book"):
        assert imported.card_extras[key] == rich_character.card_extras[key], key


@pytest.mark.django_db
def test_round_trip_v3_json_body(api_client, rich_character):
    card = export(api_client, rich_character, "v3", "json").content
    response = api_client.generic("POST", "/api/characters/import", card, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert_same_character(Character.objects.get(pk=response.json()["id"]), rich_character)


@pytest.mark.django_db
def test_ccv3_is_preferred_over_chara(api_client):
    v2 = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Old Name", "description": "v2"}}
    v3 = {"spec": "chara_card_v3", "spec_version": "3.0", "data": {"name": "New Name", "description": "v3"}}
    png = png_with_chunks({"chara": b64card(v2), "ccv3": b64card(v3)})
    response = import_via_api(api_client, png, "both.png", "image/png")
    assert response.status_code == 201
    assert response.json()["name"] == "New Name"
    assert response.json()["description"] == "v3"


@pytest.mark.django_db
def test_foreign_v2_card_maps_fields(api_client):
    card = {
        "spec": "chara_card_v2", "spec_version": "2.0",
        "data": {
            "name": "Orrin", "description": "A lighthouse keeper.", "personality": "Gruff", "scenario": "A storm night.",
            "first_mes": "Who's there?", "mes_example": "{{char}}: Close the door.", "creator_notes": "n",
            "system_prompt": "sp", "post_history_instructions": "phi", "alternate_greetings": ["Ahoy"],
            "tags": ["sea"], "creator": "someone", "character_version": 3,
            "extensions": {"chub": {"id": 5, "full_path": "x/y"}, "fav": False},
            "character_book": {"entries": []},
        },
    }
    response = api_client.generic("POST", "/api/characters/import", json.dumps(card), content_type="application/json")
    assert response.status_code == 201, response.json()
    c = Character.objects.get(pk=response.json()["id"])
    assert (c.name, c.description, c.personality, c.scenario_situation) == ("Orrin", "A lighthouse keeper.", "Gruff", "A storm night.")
    assert (c.first_message, c.example_dialogue) == ("Who's there?", "{{char}}: Close the door.")
    assert (c.system_prompt, c.post_history_instructions, c.creator_notes) == ("sp", "phi", "n")
    assert c.alternate_greetings == ["Ahoy"] and c.tags == ["sea"] and c.character_version == "3"
    assert c.extensions == {"chub": {"id": 5, "full_path": "x/y"}, "fav": False}
    assert c.card_extras == {"character_book": {"entries": []}}
    assert c.category == "other" and c.language == "en"

    # Exporting again keeps the foreign extensions exactly and adds ours beside them.
    data = json.loads(api_client.get(f"/api/characters/{c.pk}/export?format=v2&as=json").content)["data"]
    assert data["extensions"]["chub"] == {"id": 5, "full_path": "x/y"} and data["extensions"]["fav"] is False
    assert data["character_book"] == {"entries": []}


@pytest.mark.django_db
def test_v1_card_and_korean_detection(api_client):
    card = {"name": "하루", "description": "조용한 도서관 사서.", "personality": "차분함", "scenario": "", "first_mes": "안녕하세요.",
            "mes_example": ""}
    response = api_client.generic("POST", "/api/characters/import", json.dumps(card, ensure_ascii=False).encode(),
                                  content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json()["language"] == "ko"
    assert response.json()["first_message"] == "안녕하세요."


def test_itxt_chunk_is_read():
    card = {"spec": "chara_card_v2", "data": {"name": "Itxt"}}
    text = zlib.compress(b64card(card))
    body = b"chara\0" + b"\x01\x00" + b"\0" + b"\0" + text
    img = Image.new("RGB", (4, 4))
    out = io.BytesIO()
    img.save(out, "PNG")
    raw = out.getvalue()
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body) & 0xFFFFFFFF)
    iend = raw.rindex(b"IEND") - 4
    png = raw[:iend] + chunk + raw[iend:]
    parsed = cards.parse_card_file(png, filename="x.png")
    assert parsed.fields["name"] == "Itxt"


@pytest.mark.django_db
def test_export_of_others_private_character_is_404(api_client, other_user):
    private = Character.objects.create(owner=other_user, name="Secret", visibility="private")
    response = api_client.get(f"/api/characters/{private.pk}/export?format=v3&as=json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_export_rejects_unknown_format(api_client, rich_character):
    response = api_client.get(f"/api/characters/{rich_character.pk}/export?format=v9&as=json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


@pytest.mark.django_db
def test_export_png_uses_portrait(api_client, user):
    img = Image.new("RGB", (32, 16), (1, 2, 3))
    out = io.BytesIO()
    img.save(out, "PNG")
    card = {"spec": "chara_card_v2", "data": {"name": "Pictured"}}
    png = png_with_chunks({"chara": b64card(card)}, size=(32, 16))
    created = import_via_api(api_client, png, "p.png", "image/png").json()
    exported = api_client.get(f"/api/characters/{created['id']}/export?format=v2&as=png").content
    with Image.open(io.BytesIO(exported)) as pic:
        assert pic.size == (32, 16)
        assert pic.convert("RGB").getpixel((0, 0)) == (200, 100, 50)


@pytest.mark.django_db
def test_export_png_uses_vrm_avatar_thumbnail(api_client, user):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from characters.models import Avatar

    out = io.BytesIO()
    Image.new("RGB", (24, 24), (10, 200, 30)).save(out, "WEBP", lossless=True)
    key = default_storage.save("avatars/thumbs/t.webp", ContentFile(out.getvalue()))
    avatar = Avatar.objects.create(owner=user, name="Vrm", vrm_version="1.0", file_hash="0" * 64, file_size=1,
                                   storage_key="k", encryption_key_id="x", performance_rank="good", thumbnail_key=key)
    character = Character.objects.create(owner=user, name="With VRM", avatar=avatar)
    exported = api_client.get(f"/api/characters/{character.pk}/export?format=v3&as=png").content
    with Image.open(io.BytesIO(exported)) as pic:
        assert pic.size == (24, 24)
        assert pic.convert("RGB").getpixel((5, 5)) == (10, 200, 30)
    assert "ccv3" in text_chunks(exported)
