"""The creation wizard's generation step: ask the LLM (through inference.llm) for every field of a
character sheet from a name, a category and a source work, as JSON matching GENERATION_SCHEMA.

`generate_sheet()` returns clean field values or raises AppError:
- `wizard_invalid_output` (502) when the answer is not JSON matching the schema (missing keys,
  wrong types, too long values), or is JSON a person could not use (`sheet_problems`): fields
  that echo the form's own hints ("who the character is: background and story..."), short
  fields without a word or holding one value ("17" as gender, species and age), or text
  in the wrong language. The gateway validates too; we check again here because what gets
  stored must fit the model's limits whatever the gateway does.
- the gateway's own `llm_*` codes (unreachable, timeout, rate limited...) pass through.
It never writes to the database: the services decide what is saved.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import jsonschema
from django.conf import settings
from django.utils.translation import gettext as _

from avatarforge.errors import AppError
from avatarforge.language import language_share

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


_WORDS = re.compile(r"\w+", re.UNICODE)
_PLACEHOLDER = re.compile(r"\{\{\s*(?:char|user)\s*\}\}", re.IGNORECASE)
ECHO_NGRAM = 4  # this many consecutive words of a hint in a value: the model copied the form
SAME_SHORT_VALUES = 3  # one value in this many short fields: the model filled in anything
# Least share of the sheet's Hangul/Latin words in the language asked for. English sheets may
# quote a Korean name; Korean ones often carry English terms (MBTI, names of works).
LANGUAGE_SHARE = {"en": 0.8, "ko": 0.5}


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(text)]


def _hint_ngrams() -> set[tuple[str, ...]]:
    grams: set[tuple[str, ...]] = set()
    for hint in _HINTS.values():
        words = _words(hint.split(" e.g.")[0])
        grams.update(tuple(words[i:i + ECHO_NGRAM]) for i in range(len(words) - ECHO_NGRAM + 1))
    return grams


_HINT_NGRAMS = _hint_ngrams()


def _echoes_hint(field: str, value: str) -> bool:
    words = _words(value)
    if " ".join(words) in (field.replace("_", " "), " ".join(_words(_HINTS[field]))):
        return True  # the field's own name or hint as its value
    return any(tuple(words[i:i + ECHO_NGRAM]) in _HINT_NGRAMS for i in range(len(words) - ECHO_NGRAM + 1))


def sheet_problems(sheet: dict[str, str], *, language: str) -> dict[str, str]:
    """Field -> what is wrong with it, for a sheet that passed the schema ({} = usable);
    the key "language" when the sheet as a whole is not in `language`."""
    problems: dict[str, str] = {}
    for field in GENERATED_FIELDS:
        value = sheet.get(field, "")
        if value and _echoes_hint(field, value):
            problems[field] = "echoes the form's hint"
    for field in _SHORT:
        value = sheet.get(field, "")
        if field in problems or not value:
            continue
        # (Lengths are the schema's maxLength: the grammar keeps them.)
        if field in ("gender", "species", "job", "scenario_counterpart") and not any(ch.isalpha() for ch in value):
            problems[field] = "not a word"
    short_values: dict[str, list[str]] = {}
    for field in _SHORT:
        key = " ".join(_words(sheet.get(field, "")))
        if key:
            short_values.setdefault(key, []).append(field)
    for fields in short_values.values():
        if len(fields) >= SAME_SHORT_VALUES:
            for field in fields:
                problems.setdefault(field, "the same value as other fields")
    text = _PLACEHOLDER.sub(" ", " ".join(sheet.get(field, "") for field in GENERATED_FIELDS))
    if language in LANGUAGE_SHARE and language_share(text, language) < LANGUAGE_SHARE[language]:
        problems["language"] = f"not written in {'Korean' if language == 'ko' else 'English'}"
    return problems


def validate_sheet(value: Any, *, language: str | None = None) -> dict[str, str]:
    """Check an LLM answer against GENERATION_SCHEMA (and, given the language asked for, that a
    person could use it: `sheet_problems`); return clean field values."""
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
    if language is not None:
        problems = sheet_problems(sheet, language=language)
        if problems:
            raise _invalid("unusable fields", fields=problems)
    return sheet


# Tokens per second of the slowest model we expect to wait for: the embedded SmolLM2 on 2 busy
# cores (measured 14-93, ~30 held with OMP_WAIT_POLICY=PASSIVE, docs FACTS).
SLOWEST_TOKENS_PER_S = 10.0


def generation_timeout(model: str | None, max_tokens: int) -> float:
    """Seconds one sheet may take: what its tokens need at the slowest expected speed, never
    less than the model's own timeout. (The chat-sized 60 s cut a sheet on the embedded model.)"""
    from inference import llm as gateway

    return max(gateway.get_model(model).timeout, max_tokens / SLOWEST_TOKENS_PER_S)


def generation_max_tokens(model: str | None) -> int:
    from inference import llm as gateway

    cfg = gateway.get_model(model)
    # A whole sheet needs far more than a chat reply; stay within half the context.
    return max(cfg.max_tokens, min(2048, cfg.context_length // 2))


def _sheet_model() -> tuple[str | None, int]:
    from inference import llm as gateway

    model = settings.CHARACTER_WIZARD_MODEL or None
    return model, min(generation_max_tokens(model), gateway.get_model(model).max_tokens)


def sheet_budget_s() -> float:
    """Seconds one generation of a whole sheet may take on the wizard's model."""
    return generation_timeout(*_sheet_model())


def generate_sheet(*, name: str, category: str, source_work: str, language: str,
                   on_text: Callable[[str], None] | None = None) -> dict[str, str]:
    """One generation: LLM call + validation. Raises AppError; never saves anything.

    `on_text` gets the answer as it streams (progress; it may raise to stop the generation)."""
    from inference import llm as gateway
    from inference.gpu.hold import hold_mode_sync

    model, max_tokens = _sheet_model()
    try:
        with hold_mode_sync(gateway.get_model(model).gpu_mode):  # a model on a switching GPU host
            text = gateway.complete(
                model=model,
                messages=build_messages(name=name, category=category, source_work=source_work, language=language),
                max_tokens=max_tokens,
                temperature=0.8,
                json_schema=GENERATION_SCHEMA,
                timeout=generation_timeout(model, max_tokens),
                on_text=on_text,
            )
    except AppError as exc:
        if exc.code == "llm_bad_response":
            raise _invalid("schema", upstream=exc.details) from exc
        raise
    try:
        value = json.loads(text)
    except ValueError:
        raise _invalid("not JSON") from None
    return validate_sheet(value, language=language)
