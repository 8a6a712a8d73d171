"""Character Card V1/V2/V3 <-> Character fields.

Import: `parse_card_file(raw, filename=..., content_type=...)` takes an uploaded JSON or PNG file
and returns a `ParsedCard` (our field values, kept unknown extensions, V3 extras, the PNG image)
or raises CardError with a `card_*` code. It never touches the database.
Export: `character_to_card(character, version)` builds the card dict; `card_json_bytes` and
`card_png_bytes` serialize it.

Mapping (card -> ours): name, nickname, description, personality, scenario -> scenario_situation,
first_mes -> first_message, mes_example -> example_dialogue, creator_notes, system_prompt,
post_history_instructions, alternate_greetings, tags, creator, character_version. Our fields
without a card equivalent travel under `extensions.avatarforge.fields` and win over the card's
composed text when present, so our own export -> import is lossless. Every other extension is
kept untouched. V3's assets, source, group_only_greetings, creator_notes_multilingual, dates and
the character_book (V2 or V3) are kept in `card_extras` and written back.

Hostile input: sizes are bounded (JSON 1 MB, PNG 5 MB), the JSON nesting depth is bounded,
every value's type is checked, every string is length-checked against the model's limits and
stripped of control characters, asset URIs with script schemes are dropped. Text is stored as
text and rendered escaped everywhere.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from ...models.personas import (
    TEXT_FIELD_LIMITS,
    BuiltinAvatar,
    CharacterCategory,
    CharacterLimits,
    json_depth,
)
from . import card_png
from .errors import CardError

if TYPE_CHECKING:
    from ...models import Character

MAX_JSON_BYTES = 1 * 1024 * 1024
MAX_PNG_BYTES = 5 * 1024 * 1024
EXTENSION_KEY = "avatarforge"
EXTENSION_VERSION = 1
# The character's voice: {"voice_id", "language", "speed", "engine"} (engine and language say what
# the id meant where the card was made; another server may not have that voice and then speaks
# with its default voice for the language until one is chosen).
VOICE_EXTENSION_KEY = "avatarforge/voice"

# Card string field -> our field (the card's own names on the left).
_CARD_TEXT = {
    "name": "name",
    "description": "description",
    "personality": "personality",
    "scenario": "scenario_situation",
    "first_mes": "first_message",
    "mes_example": "example_dialogue",
    "creator_notes": "creator_notes",
    "system_prompt": "system_prompt",
    "post_history_instructions": "post_history_instructions",
    "creator": "creator",
    "character_version": "character_version",
}
_V3_TEXT = {"nickname": "nickname"}

# Our fields that travel in extensions.avatarforge.fields (text) on export.
_EXT_TEXT_FIELDS = (
    "nickname", "category", "source_work", "gender", "species", "age", "height", "job", "language",
    "description", "personality", "appearance", "likes", "dislikes", "speech_style", "thoughts",
    "features", "habits", "guidelines", "worldview",
    "scenario_counterpart", "scenario_situation", "scenario_background",
    "voice_id", "builtin_avatar",
)

# Max lengths of our CharFields (the TextFields are in TEXT_FIELD_LIMITS).
_CHAR_LIMITS = {
    "name": 100, "nickname": 100, "category": 16, "source_work": 200, "gender": 50, "species": 100,
    "age": 50, "height": 50, "job": 100, "language": 8, "scenario_counterpart": 200,
    "creator": 100, "character_version": 50, "voice_id": 100, "builtin_avatar": 16,
}
FIELD_LIMITS: dict[str, int] = {**TEXT_FIELD_LIMITS, **_CHAR_LIMITS}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_SAFE_URI = re.compile(r"^(ccdefault:|embeded://|embedded://|__asset:|https?://|data:image/(png|jpeg|webp|gif);)", re.I)
_MAX_LIST_ITEM = 2000


def clean_text(value: str) -> str:
    """Strip control and bidi-override characters (kept: tab, LF and CR).

    Line ends are kept exactly as written: a card's CRLF text must come back byte-identical on
    export, so import is lossless (the HTML forms send CRLF from every textarea and turn it into
    LF themselves, in characters.personas.forms)."""
    return _CONTROL.sub("", value)


@dataclass
class ParsedCard:
    spec: str  # "v1", "v2" or "v3"
    fields: dict[str, Any]
    extensions: dict[str, Any] = field(default_factory=dict)
    card_extras: dict[str, Any] = field(default_factory=dict)
    image_png: bytes | None = None  # the PNG the card came in, header-checked


# --- import -------------------------------------------------------------------------------------

def parse_card_file(raw: bytes, *, filename: str = "", content_type: str = "") -> ParsedCard:
    """Parse an uploaded card (PNG with a `ccv3`/`chara` chunk, or JSON)."""
    looks_png = filename.lower().endswith(".png") or content_type == "image/png"
    if card_png.is_png(raw):
        if len(raw) > MAX_PNG_BYTES:
            raise _too_large(MAX_PNG_BYTES)
        chunks, _size, others = card_png.read_text_chunks(raw)
        # Prefer V3: writers put a V2 `chara` beside it for old readers.
        keyword = next((k for k in card_png.CARD_KEYWORDS if k in chunks), None)
        if keyword is None:
            found = ", ".join(others) if others else _("none")
            raise CardError(
                _("This PNG has no character card data: no 'ccv3' or 'chara' text chunk (tEXt, zTXt or iTXt). "
                  "Text chunks found: %(found)s.") % {"found": found},
                code="card_png_no_data",
                details={"text_chunks": others},
            )
        try:
            payload = base64.b64decode(chunks[keyword].strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CardError(_("The card data in the PNG is not valid base64."), code="card_base64_invalid") from exc
        card = parse_card_json(payload)
        parsed = card_to_fields(card)
        parsed.image_png = raw
        return parsed
    if looks_png:
        raise CardError(_("This file is not a PNG image."), code="card_not_png")
    return card_to_fields(parse_card_json(raw))


def parse_card_json(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_JSON_BYTES:
        raise _too_large(MAX_JSON_BYTES)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CardError(_("The card is not UTF-8 text."), code="card_invalid_json") from exc
    if not text.lstrip().startswith("{"):
        raise CardError(_("This file is neither a PNG character card nor a JSON character card."),
                        code="card_unsupported_format")
    try:
        card = json.loads(text)
    except RecursionError as exc:
        raise _too_deep() from exc
    except ValueError as exc:
        raise CardError(_("The card is not valid JSON: %(error)s") % {"error": str(exc)[:200]}, code="card_invalid_json") from exc
    if not isinstance(card, dict):
        raise CardError(_("The card must be a JSON object."), code="card_wrong_type", details={"field": "$"})
    if json_depth(card) > CharacterLimits.MAX_JSON_DEPTH + 2:  # spec + data wrap the extensions
        raise _too_deep()
    return card


def _too_large(limit: int) -> CardError:
    return CardError(
        _("The card file is too large (at most %(mb)s MB).") % {"mb": round(limit / 2**20, 1)},
        code="card_too_large", details={"max_bytes": limit}, status=413,
    )


def _too_deep() -> CardError:
    return CardError(
        _("The card is nested too deeply (at most %(n)d levels).") % {"n": CharacterLimits.MAX_JSON_DEPTH},
        code="card_too_deep", details={"max_depth": CharacterLimits.MAX_JSON_DEPTH},
    )


def _wrong_type(path: str, expected: str) -> CardError:
    return CardError(
        _("Card field '%(field)s' has the wrong type (expected %(expected)s).") % {"field": path, "expected": expected},
        code="card_wrong_type", details={"field": path, "expected": expected},
    )


def _string(data: dict[str, Any], key: str, path: str, *, numbers_ok: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if numbers_ok and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _wrong_type(path, "string")
    return clean_text(value)


def _string_list(data: dict[str, Any], key: str, path: str, *, max_items: int, max_length: int) -> list[str] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _wrong_type(path, "list of strings")
    if len(value) > max_items:
        raise CardError(
            _("Card field '%(field)s' has too many items (at most %(n)d).") % {"field": path, "n": max_items},
            code="card_field_too_long", details={"field": path, "max_items": max_items},
        )
    for item in value:
        if len(item) > max_length:
            raise _field_too_long(path, max_length)
    return [clean_text(v) for v in value]


def _field_too_long(path: str, limit: int) -> CardError:
    return CardError(
        _("Card field '%(field)s' is too long (at most %(n)d characters).") % {"field": path, "n": limit},
        code="card_field_too_long", details={"field": path, "max_length": limit},
    )


def _check_lengths(fields: dict[str, Any], origin: dict[str, str]) -> None:
    for name, value in fields.items():
        limit = FIELD_LIMITS.get(name)
        if limit is not None and isinstance(value, str) and len(value) > limit:
            raise _field_too_long(origin.get(name, name), limit)


def _detect_language(fields: dict[str, Any]) -> str:
    sample = " ".join(str(fields.get(k, "")) for k in ("name", "description", "personality", "first_message"))
    return "ko" if _HANGUL.search(sample) else "en"


def card_to_fields(card: dict[str, Any]) -> ParsedCard:
    """Map a decoded card to our fields; raises CardError on wrong types or sizes."""
    spec_name = card.get("spec")
    if spec_name == "chara_card_v3":
        spec, data, prefix = "v3", card.get("data"), "data."
    elif spec_name == "chara_card_v2":
        spec, data, prefix = "v2", card.get("data"), "data."
    elif spec_name is None and isinstance(card.get("name"), str):
        spec, data, prefix = "v1", card, ""
    else:
        raise CardError(
            _("Unknown card format: expected spec 'chara_card_v2' or 'chara_card_v3'."),
            code="card_unknown_spec", details={"spec": str(spec_name)[:64]},
        )
    if not isinstance(data, dict):
        raise _wrong_type("data", "object")

    fields: dict[str, Any] = {}
    origin: dict[str, str] = {}
    text_map = {**_CARD_TEXT, **(_V3_TEXT if spec == "v3" else {})}
    for card_key, ours in text_map.items():
        value = _string(data, card_key, prefix + card_key, numbers_ok=card_key == "character_version")
        if value is not None:
            fields[ours] = value
            origin[ours] = prefix + card_key
    if not fields.get("name", "").strip():
        raise CardError(_("The card has no character name."), code="card_missing_name", details={"field": prefix + "name"})
    fields["name"] = fields["name"].strip()

    greetings = _string_list(data, "alternate_greetings", prefix + "alternate_greetings",
                             max_items=CharacterLimits.MAX_GREETINGS, max_length=CharacterLimits.MAX_GREETING_LENGTH)
    if greetings is not None:
        fields["alternate_greetings"] = greetings
    tags = _string_list(data, "tags", prefix + "tags", max_items=CharacterLimits.MAX_TAGS,
                        max_length=CharacterLimits.MAX_TAG_LENGTH)
    if tags is not None:
        fields["tags"] = [t.strip() for t in tags if t.strip()]

    extensions = data.get("extensions", {}) if spec != "v1" else {}
    if extensions is None:
        extensions = {}
    if not isinstance(extensions, dict):
        raise _wrong_type(prefix + "extensions", "object")
    extensions = dict(extensions)
    ours = extensions.pop(EXTENSION_KEY, None)
    if ours is not None:
        fields.update(_our_extension(ours, prefix + "extensions." + EXTENSION_KEY, origin))
    voice = extensions.pop(VOICE_EXTENSION_KEY, None)
    if voice is not None:
        fields.update(_voice_extension(voice, prefix + "extensions." + VOICE_EXTENSION_KEY, origin))

    extras = _card_extras(data, spec, prefix)
    _check_lengths(fields, origin)
    fields.setdefault("language", _detect_language(fields))
    if ours is None:
        fields.setdefault("category", CharacterCategory.OTHER)
    return ParsedCard(spec=spec, fields=fields, extensions=extensions, card_extras=extras)


def _our_extension(value: Any, path: str, origin: dict[str, str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _wrong_type(path, "object")
    raw_fields = value.get("fields", {})
    if not isinstance(raw_fields, dict):
        raise _wrong_type(path + ".fields", "object")
    result: dict[str, Any] = {}
    for name in _EXT_TEXT_FIELDS:
        text = _string(raw_fields, name, f"{path}.fields.{name}")
        if text is not None:
            result[name] = text
            origin[name] = f"{path}.fields.{name}"
    # Enumerations from a foreign file: an unknown value falls back rather than failing the import.
    if result.get("category") not in CharacterCategory.values:
        result.pop("category", None)
    if result.get("builtin_avatar") not in ("", *BuiltinAvatar.values):
        result.pop("builtin_avatar", None)
    if result.get("language") not in ("en", "ko"):
        result.pop("language", None)
    return result


def _voice_extension(value: Any, path: str, origin: dict[str, str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _wrong_type(path, "object")
    result: dict[str, Any] = {}
    voice_id = _string(value, "voice_id", path + ".voice_id")
    if voice_id is not None:
        result["voice_id"] = voice_id.strip()
        origin["voice_id"] = path + ".voice_id"
    speed = value.get("speed")
    if speed is not None:
        if isinstance(speed, bool) or not isinstance(speed, int | float) or not 0.5 <= float(speed) <= 2.0:
            raise CardError(_("The voice speed must be a number from 0.5 to 2.0."), code="card_wrong_type",
                            details={"field": path + ".speed", "expected": "number 0.5-2.0"})
        result["voice_speed"] = float(speed)
    return result


def voice_extension(character: Character) -> dict[str, Any]:
    from inference.speech import config as speech_config

    voice = next((v for v in speech_config.voices() if v.id == character.voice_id), None)
    return {
        "voice_id": character.voice_id,
        "language": voice.language if voice else character.language,
        "speed": character.voice_speed,
        "engine": voice.engine if voice else "",
    }


def _card_extras(data: dict[str, Any], spec: str, prefix: str) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    book = data.get("character_book")
    if book is not None:
        if not isinstance(book, dict):
            raise _wrong_type(prefix + "character_book", "object")
        extras["character_book"] = book
    if spec != "v3":
        return extras
    for key in ("group_only_greetings", "source"):
        items = _string_list(data, key, prefix + key, max_items=100, max_length=_MAX_LIST_ITEM
                             if key == "source" else CharacterLimits.MAX_GREETING_LENGTH)
        if items is not None:
            extras[key] = items
    notes = data.get("creator_notes_multilingual")
    if notes is not None:
        if not isinstance(notes, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in notes.items()):
            raise _wrong_type(prefix + "creator_notes_multilingual", "object of strings")
        if len(notes) > 50:
            raise _field_too_long(prefix + "creator_notes_multilingual", 50)
        for lang, text in notes.items():
            if len(text) > TEXT_FIELD_LIMITS["creator_notes"] or len(lang) > 16:
                raise _field_too_long(f"{prefix}creator_notes_multilingual.{lang[:16]}", TEXT_FIELD_LIMITS["creator_notes"])
        extras["creator_notes_multilingual"] = {k: clean_text(v) for k, v in notes.items()}
    assets = data.get("assets")
    if assets is not None:
        if not isinstance(assets, list) or len(assets) > 100:
            raise _wrong_type(prefix + "assets", "list of at most 100 assets")
        kept = []
        for i, asset in enumerate(assets):
            if not isinstance(asset, dict) or not all(isinstance(asset.get(k), str) for k in ("type", "uri", "name", "ext")):
                raise _wrong_type(f"{prefix}assets[{i}]", "asset object with type, uri, name and ext strings")
            if any(len(asset[k]) > _MAX_LIST_ITEM for k in ("type", "name", "ext")) or len(asset["uri"]) > 100_000:
                raise _field_too_long(f"{prefix}assets[{i}]", _MAX_LIST_ITEM)
            # A script URI would run wherever a client turns the asset into a link or an image.
            if _SAFE_URI.match(asset["uri"].strip()):
                kept.append({k: asset[k] for k in ("type", "uri", "name", "ext")})
        extras["assets"] = kept
    for key in ("creation_date", "modification_date"):
        value = data.get(key)
        if value is not None:
            if not isinstance(value, int) or isinstance(value, bool):
                raise _wrong_type(prefix + key, "integer")
            extras[key] = value
    return extras


# --- export -------------------------------------------------------------------------------------

def _sheet_sections(character: Character) -> list[tuple[str, str]]:
    from ..prompt import LABELS

    labels = LABELS.get(character.language, LABELS["en"])
    profile = [f"{labels[f]}: {getattr(character, f)}" for f in ("gender", "species", "age", "height", "job")
               if getattr(character, f).strip()]
    sections = [("", character.description.strip())]
    if profile:
        sections.append((labels["profile"], "\n".join(profile)))
    for name in ("appearance", "likes", "dislikes", "speech_style", "thoughts", "features", "habits", "worldview",
                 "guidelines"):
        value = getattr(character, name).strip()
        if value:
            sections.append((labels[name], value))
    return [s for s in sections if s[1]]


def composed_description(character: Character) -> str:
    """Our structured sheet as one text, for card readers that only know `description`."""
    return "\n\n".join(f"[{title}]\n{text}" if title else text for title, text in _sheet_sections(character))


def composed_scenario(character: Character) -> str:
    from ..prompt import LABELS

    labels = LABELS.get(character.language, LABELS["en"])
    parts = [character.scenario_situation.strip(), character.scenario_background.strip()]
    if character.scenario_counterpart.strip():
        parts.append(f"{labels['counterpart'].format(user='{{user}}')}: {character.scenario_counterpart.strip()}")
    return "\n\n".join(p for p in parts if p)


def character_to_card(character: Character, version: str) -> dict[str, Any]:
    """The card dict for `version` "v2" or "v3"."""
    data: dict[str, Any] = {
        "name": character.name,
        "description": composed_description(character),
        "personality": character.personality,
        "scenario": composed_scenario(character),
        "first_mes": character.first_message,
        "mes_example": character.example_dialogue,
        "creator_notes": character.creator_notes,
        "system_prompt": character.system_prompt,
        "post_history_instructions": character.post_history_instructions,
        "alternate_greetings": list(character.alternate_greetings),
        "tags": list(character.tags),
        "creator": character.creator,
        "character_version": character.character_version,
        "extensions": {
            **character.extensions,
            EXTENSION_KEY: {
                "version": EXTENSION_VERSION,
                "fields": {name: getattr(character, name) for name in _EXT_TEXT_FIELDS},
            },
            VOICE_EXTENSION_KEY: voice_extension(character),
        },
    }
    extras = character.card_extras or {}
    if "character_book" in extras:
        data["character_book"] = extras["character_book"]
    if version == "v2":
        return {"spec": "chara_card_v2", "spec_version": "2.0", "data": data}
    data.update({
        "nickname": character.nickname,
        "group_only_greetings": list(extras.get("group_only_greetings", [])),
        "creator_notes_multilingual": dict(extras.get("creator_notes_multilingual", {})),
        "source": list(extras.get("source", [])),
        "assets": list(extras.get("assets", [{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}])),
        "creation_date": extras.get("creation_date", int(character.created_at.timestamp())),
        "modification_date": int(character.updated_at.timestamp()),
    })
    return {"spec": "chara_card_v3", "spec_version": "3.0", "data": data}


def card_json_bytes(card: dict[str, Any]) -> bytes:
    return json.dumps(card, ensure_ascii=False, indent=2).encode()


def _b64(card: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode()).decode("ascii")


def card_png_bytes(character: Character, version: str, image_png: bytes) -> bytes:
    """A card PNG: the V3 export carries `ccv3` and a V2 `chara` for older readers."""
    chunks = {"chara": _b64(character_to_card(character, "v2"))}
    if version == "v3":
        chunks["ccv3"] = _b64(character_to_card(character, "v3"))
    return card_png.write_card_png(image_png, chunks)
