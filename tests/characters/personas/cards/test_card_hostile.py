"""Malformed and hostile cards: each gets a clear `card_*` code, and nothing is saved (no row, no
file). Script in text is stored as text and rendered escaped."""
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
from characters.personas.cards import cards


def v2(**data) -> dict:
    return {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Test", **data}}


def b64(card) -> bytes:
    return base64.b64encode(json.dumps(card).encode())


def png(chunks: dict[str, bytes], size=(8, 8)) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    out = io.BytesIO()
    Image.new("RGB", size).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF)


def bomb_png(width: int, height: int, card: dict) -> bytes:
    """A tiny file declaring a huge image: IHDR says width x height, IDAT is a few zero rows."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    idat = zlib.compress(b"\0" * 1000, 9)
    text = b"chara\0" + b64(card)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"tEXt", text) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture
def nothing_saved(db, settings):
    """Asserts after the test that no character row and no stored file were left behind."""
    before = Character.objects.count()
    yield
    assert Character.objects.count() == before
    media = settings.MEDIA_ROOT
    assert not [p for p in media.rglob("*") if p.is_file()], "a file was left in storage"


def upload(api_client, data: bytes, name: str, content_type: str):
    return api_client.post("/api/characters/import", {"file": SimpleUploadedFile(name, data, content_type=content_type)},
                           format="multipart")


def post_json(api_client, body: bytes):
    return api_client.generic("POST", "/api/characters/import", body, content_type="application/json")


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert body["code"] == code, body
    assert body["message"]
    return body


@pytest.mark.usefixtures("nothing_saved")
class TestHostileCards:
    def test_json_too_large(self, api_client):
        card = v2(description="x" * (cards.MAX_JSON_BYTES + 10))
        assert_error(upload(api_client, json.dumps(card).encode(), "big.json", "application/json"), 413, "card_too_large")

    def test_json_body_too_large(self, api_client):
        card = v2(description="x" * (cards.MAX_JSON_BYTES + 10))
        assert_error(post_json(api_client, json.dumps(card).encode()), 413, "card_too_large")

    def test_png_too_large(self, api_client):
        noise = png({"chara": b64(v2())}) + b"\0" * (cards.MAX_PNG_BYTES + 1)
        assert_error(upload(api_client, noise, "big.png", "image/png"), 413, "card_too_large")

    def test_not_a_png(self, api_client):
        assert_error(upload(api_client, b"GIF89a....", "card.png", "image/png"), 400, "card_not_png")

    def test_neither_png_nor_json(self, api_client):
        assert_error(upload(api_client, b"\x00\x01binary", "card.bin", "application/octet-stream"), 400,
                     "card_unsupported_format")

    def test_invalid_json(self, api_client):
        assert_error(upload(api_client, b'{"spec": "chara_card_v2", "data": {', "c.json", "application/json"), 400,
                     "card_invalid_json")

    def test_png_without_card(self, api_client):
        assert_error(upload(api_client, png({"Comment": b"hello"}), "c.png", "image/png"), 400, "card_png_no_data")

    def test_png_bad_base64(self, api_client):
        assert_error(upload(api_client, png({"chara": b"!!!not base64!!!"}), "c.png", "image/png"), 400,
                     "card_base64_invalid")

    def test_png_bad_crc(self, api_client):
        data = bytearray(png({"chara": b64(v2())}))
        data[30] ^= 0xFF  # inside the IHDR chunk: its CRC no longer matches
        assert_error(upload(api_client, bytes(data), "c.png", "image/png"), 400, "card_png_invalid")

    def test_png_truncated(self, api_client):
        data = png({"chara": b64(v2())})
        assert_error(upload(api_client, data[: len(data) // 2], "c.png", "image/png"), 400, "card_png_invalid")

    def test_decompression_bomb(self, api_client):
        body = assert_error(upload(api_client, bomb_png(50000, 50000, v2()), "bomb.png", "image/png"), 400,
                            "card_image_too_large")
        assert body["details"]["width"] == 50000

    def test_bomb_just_under_side_limit_but_too_many_pixels(self, api_client):
        # 4096 x 4096 passes; 4096 x 4097 is over the side limit.
        assert_error(upload(api_client, bomb_png(4096, 4097, v2()), "bomb.png", "image/png"), 400, "card_image_too_large")

    def test_corrupt_image_data(self, api_client):
        # Valid chunks and a sane size, but IDAT does not decode into the declared image.
        assert_error(upload(api_client, bomb_png(64, 64, v2()), "bad.png", "image/png"), 400, "card_png_invalid")

    def test_deeply_nested(self, api_client):
        nested = "[" * 100_000 + "]" * 100_000
        body = '{"spec": "chara_card_v2", "data": {"name": "Deep", "extensions": {"x": ' + nested + "}}}"
        assert_error(post_json(api_client, body.encode()), 400, "card_too_deep")

    def test_moderately_nested_over_limit(self, api_client):
        value: object = "leaf"
        for _ in range(40):
            value = {"k": value}
        assert_error(post_json(api_client, json.dumps(v2(extensions={"deep": value})).encode()), 400, "card_too_deep")

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"name": 42}, "data.name"),
            ({"description": ["a", "b"]}, "data.description"),
            ({"tags": "one,two"}, "data.tags"),
            ({"tags": [1, 2]}, "data.tags"),
            ({"alternate_greetings": {"a": 1}}, "data.alternate_greetings"),
            ({"extensions": "nope"}, "data.extensions"),
            ({"character_book": []}, "data.character_book"),
            ({"first_mes": True}, "data.first_mes"),
        ],
    )
    def test_wrong_types(self, api_client, data, field):
        body = assert_error(post_json(api_client, json.dumps(v2(**data)).encode()), 400, "card_wrong_type")
        assert body["details"]["field"] == field

    def test_wrong_type_data(self, api_client):
        card = {"spec": "chara_card_v2", "data": "string"}
        assert_error(post_json(api_client, json.dumps(card).encode()), 400, "card_wrong_type")

    def test_top_level_not_object(self, api_client):
        assert_error(post_json(api_client, b"[1, 2, 3]"), 400, "card_unsupported_format")

    def test_unknown_spec(self, api_client):
        assert_error(post_json(api_client, json.dumps({"spec": "chara_card_v9", "data": {}}).encode()), 400,
                     "card_unknown_spec")

    def test_missing_name(self, api_client):
        assert_error(post_json(api_client, json.dumps(v2(name="   ")).encode()), 400, "card_missing_name")

    def test_huge_string(self, api_client):
        body = assert_error(post_json(api_client, json.dumps(v2(personality="p" * 9000)).encode()), 400,
                            "card_field_too_long")
        assert body["details"] == {"field": "data.personality", "max_length": 8000}

    def test_huge_name(self, api_client):
        assert_error(post_json(api_client, json.dumps(v2(name="n" * 101)).encode()), 400, "card_field_too_long")

    def test_too_many_tags(self, api_client):
        assert_error(post_json(api_client, json.dumps(v2(tags=[f"t{i}" for i in range(31)])).encode()), 400,
                     "card_field_too_long")

    def test_v3_wrong_asset(self, api_client):
        card = {"spec": "chara_card_v3", "data": {"name": "A", "assets": [{"type": "icon"}]}}
        assert_error(post_json(api_client, json.dumps(card).encode()), 400, "card_wrong_type")

    def test_png_chunk_wrong_types(self, api_client):
        data = png({"ccv3": b64({"spec": "chara_card_v3", "data": {"name": {"$gt": 1}}})})
        assert_error(upload(api_client, data, "c.png", "image/png"), 400, "card_wrong_type")

    def test_missing_file(self, api_client):
        assert_error(api_client.post("/api/characters/import", {}, format="multipart"), 400, "invalid")

    def test_anonymous(self, anon_api_client):
        response = anon_api_client.generic("POST", "/api/characters/import", json.dumps(v2()), content_type="application/json")
        assert response.status_code in (401, 403)


@pytest.mark.django_db
def test_script_in_text_is_stored_as_text_and_rendered_escaped(api_client, client, user, password):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    card = v2(name=f"Evil {evil}", description=evil, first_mes=evil, creator_notes=evil, tags=[evil[:40]])
    response = post_json(api_client, json.dumps(card).encode())
    assert response.status_code == 201
    character = Character.objects.get(pk=response.json()["id"])
    assert character.description == evil  # kept as text, not mangled
    client.login(email=user.email, password=password)
    for url in (f"/characters/{character.pk}/", "/characters/", f"/characters/{character.pk}/edit/"):
        page = client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert "<script>alert" not in html
        assert "<img src=x onerror" not in html
        assert "&lt;script&gt;" in html


@pytest.mark.django_db
def test_control_characters_and_script_assets_are_stripped(api_client):
    card = {"spec": "chara_card_v3", "data": {
        "name": "Ctl\x00Name\u202e", "description": "line1\r\nline2\x07",
        "assets": [
            {"type": "icon", "uri": "javascript:alert(1)", "name": "main", "ext": "png"},
            {"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"},
            {"type": "background", "uri": "data:text/html,<script>1</script>", "name": "bg", "ext": "html"},
        ],
    }}
    response = post_json(api_client, json.dumps(card).encode())
    assert response.status_code == 201, response.json()
    c = Character.objects.get(pk=response.json()["id"])
    assert c.name == "CtlName" and c.description == "line1\nline2"
    assert c.card_extras["assets"] == [{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}]


@pytest.mark.django_db
def test_export_filename_is_safe(api_client, user):
    c = Character.objects.create(owner=user, name='a"; evil\r\nX-Injected: 1/../..')
    response = api_client.get(f"/api/characters/{c.pk}/export?format=v2&as=json")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="a-evil-X-Injected-1.v2.json"'
