"""The creation wizard's generation step: ask the LLM (through inference.llm) for every field of a
character sheet from a name, a category and a source work, as JSON matching GENERATION_SCHEMA.

`generate_sheet()` returns clean field values or raises AppError:
- `wizard_invalid_output` (502) when the answer is not JSON matching the schema (missing keys,
  wrong types, too long values). The gateway validates too; we check again here because what
  gets stored must fit the model's limits whatever the gateway does.
- the gateway's own `llm_*` codes (unreachable, timeout, rate limited...) pass through.
It never writes to the database: the services decide what is saved.
"""
from __future__ import annotations

import json
from typing import Any

import jsonschema
from django.conf import settings
from django.utils.translation import gettext as _

from avatarforge.errors import AppError

from ..models.personas import CharacterCategory
from .cards.cards import FIELD_LIMITS, clean_text

# Fields the LLM fills, in the order it should write them.
GENERATED_FIELDS: tuple[str, ...] = (
    "gender", "species", "age", "height", "job",
    "description", "personality", "appearance", "likes", "dislikes", "speech_style",
    "thoughts", "features", "habits", "guidelines", "worldview",
    "first_message", "example_dialogue",
    "scenario_counterpart", "scenario_situation", "scenario_background",
)

_HINTS: dict[str, str] = {
    "gender": "gender (short)",
    "species": "species or race (short)",
    "age": "age, e.g. '17' or 'about 300 years' (short)",
    "height": "height, e.g. '162 cm' (short)",
    "job": "occupation or role (short)",
    "description": "who the character is: background and story, several sentences",
    "personality": "personality traits and temperament",
    "appearance": "looks, clothes, distinctive features",
    "likes": "things the character likes",
    "dislikes": "things the character dislikes",
    "speech_style": "how the character talks: tone, politeness, verbal tics, sample phrases",
    "thoughts": "beliefs, values, inner conflicts",
    "features": "notable abilities or traits",
    "habits": "habits and mannerisms",
    "guidelines": "rules for playing this character well in a conversation",
    "worldview": "the world the character lives in: setting, era, rules of the world",
    "first_message": "the character's first line to the user, in character",
    "example_dialogue": "a short example exchange, lines starting with '{{user}}:' and '{{char}}:'",
    "scenario_counterpart": "who the user plays when meeting the character (short)",
    "scenario_situation": "the situation in which they meet",
    "scenario_background": "background of the scene",
}

_SHORT = {"gender", "species", "age", "height", "job", "scenario_counterpart"}


def _schema() -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for name in GENERATED_FIELDS:
        properties[name] = {"type": "string", "maxLength": FIELD_LIMITS[name], "description": _HINTS[name]}
    return {
        "type": "object",
        "properties": properties,
        "required": list(GENERATED_FIELDS),
    }


GENERATION_SCHEMA: dict[str, Any] = _schema()


def build_messages(*, name: str, category: str, source_work: str, language: str) -> list[dict[str, str]]:
    category_label = str(CharacterCategory(category).label) if category in CharacterCategory.values else category
    lang = "Korean (한국어)" if language == "ko" else "English"
    origin = (
        f"from the work \"{source_work}\": follow that work's canon closely (names, relationships, world, how they speak)"
        if source_work.strip()
        else "an original character: invent a coherent, distinctive personality and world"
    )
    system = (
        "You write detailed character sheets for role-play chat, like a thorough fan wiki entry. "
        f"Write every value in {lang}. Be specific and consistent across fields; no placeholders, no empty values. "
        "Keep short fields (gender, species, age, height, job, counterpart) to a few words. "
        "In first_message and example_dialogue write {{char}} for the character and {{user}} for the user."
    )
    fields = "\n".join(f"- {name}: {_HINTS[name]}" for name in GENERATED_FIELDS)
    user = (
        f"Character name: {name}\nCategory: {category_label}\nThis is {origin}.\n\n"
        f"Return one JSON object with exactly these string fields:\n{fields}"
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _invalid(reason: str, **details: Any) -> AppError:
    return AppError(
        _("The language model's answer was not a usable character sheet. Try again."),
        code="wizard_invalid_output", status=502, details={"reason": reason, **details},
    )


def validate_sheet(value: Any) -> dict[str, str]:
    """Check an LLM answer against GENERATION_SCHEMA; return clean field values."""
    if not isinstance(value, dict):
        raise _invalid("not a JSON object")
    try:
        jsonschema.validate(value, GENERATION_SCHEMA)
    except jsonschema.ValidationError as exc:
        raise _invalid(exc.message[:300], path=[str(p) for p in exc.absolute_path][:5]) from None
    sheet = {name: clean_text(value[name]).strip() for name in GENERATED_FIELDS}
    empty = [name for name in ("description", "personality", "first_message") if not sheet[name]]
    if empty:
        raise _invalid("empty fields", fields=empty)
    return sheet


def generation_max_tokens(model: str | None) -> int:
    from inference import llm as gateway

    cfg = gateway.get_model(model)
    # A whole sheet needs far more than a chat reply; stay within half the context.
    return max(cfg.max_tokens, min(2048, cfg.context_length // 2))


def generate_sheet(*, name: str, category: str, source_work: str, language: str) -> dict[str, str]:
    """One generation: LLM call + validation. Raises AppError; never saves anything."""
    from inference import llm as gateway

    model = settings.CHARACTER_WIZARD_MODEL or None
    try:
        text = gateway.complete(
            model=model,
            messages=build_messages(name=name, category=category, source_work=source_work, language=language),
            max_tokens=generation_max_tokens(model),
            temperature=0.8,
            json_schema=GENERATION_SCHEMA,
        )
    except AppError as exc:
        if exc.code == "llm_bad_response":
            raise _invalid("schema", upstream=exc.details) from exc
        raise
    try:
        value = json.loads(text)
    except ValueError:
        raise _invalid("not JSON") from None
    return validate_sheet(value)
