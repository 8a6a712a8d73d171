"""Writes for AI characters: create, update, delete, copy, card import, presets, the wizard.

Every function takes keyword-only arguments, authorizes inside (the acting `user` and an id, the
same checks as selectors.py: 404 for what the user cannot see, 403 for what they only see),
validates with the model's own validators (the same limits for the API, the pages, card import
and presets) and either saves everything or nothing. The per-user character limit is checked
under the one accounts lock (accounts.services.lock_user), like the avatar and actor slots.
"""
from __future__ import annotations

import io
import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import lock_user
from avatarforge.errors import AppError, LimitExceeded, NotFound, TooManyRequests
from avatarforge.text import normalize_name

from ..avatars.policy import is_visible_to
from ..avatars.storage import read_thumbnail
from ..models import Avatar, Character
from ..models.personas import CharacterCategory, CharacterLimits, CharacterVisibility
from . import portraits, selectors, wizard, wizard_progress
from .cards import card_png, cards
from .cards.errors import CardError

logger = logging.getLogger(__name__)

PRESETS_DIR = Path(__file__).resolve().parent / "presets"
WIZARD_GENERATIONS_PER_HOUR = 30
# No new attempt after a refused answer once the wizard worked this long (seconds): on the
# embedded model one sheet takes about a minute, so this allows a second try, not a third.
WIZARD_RETRY_BUDGET_S = 90.0

# Fields a user may set (API, forms, wizard, card import). Not: owner, preset_key, drafts,
# counters, portrait (set by import), card_extras (kept from import).
EDITABLE_FIELDS: tuple[str, ...] = (
    "name", "nickname", "category", "source_work", "gender", "species", "age", "height", "job", "language",
    "description", "personality", "appearance", "likes", "dislikes", "speech_style", "thoughts", "features",
    "habits", "guidelines", "worldview", "first_message", "example_dialogue",
    "scenario_counterpart", "scenario_situation", "scenario_background",
    "alternate_greetings", "tags", "system_prompt", "post_history_instructions", "creator_notes", "creator",
    "character_version", "extensions", "voice_id", "voice_speed", "avatar", "builtin_avatar", "visibility",
)
_TEXT_FIELDS = frozenset(cards.FIELD_LIMITS)


def _clean_values(fields: dict[str, Any]) -> dict[str, Any]:
    """Only editable fields; text without control characters; lists of texts cleaned too."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise AppError(_("Unknown fields: %(names)s") % {"names": ", ".join(sorted(unknown))}, code="invalid",
                       details={name: [_("Unknown field.")] for name in sorted(unknown)})
    result: dict[str, Any] = {}
    for name, value in fields.items():
        if name in _TEXT_FIELDS and isinstance(value, str):
            value = normalize_name(value) if name == "name" else cards.clean_text(value)
        elif name in ("tags", "alternate_greetings") and isinstance(value, list):
            value = [cards.clean_text(v) if isinstance(v, str) else v for v in value]
        result[name] = value
    return result


def _full_clean(character: Character) -> None:
    """Model validation as the API's error format (400 `invalid` with per-field details)."""
    try:
        character.full_clean(exclude=["owner", "avatar"], validate_constraints=False)
    except ValidationError as exc:
        raise AppError(_("Some fields are invalid."), code="invalid", details=exc.message_dict) from None


def _check_avatar(owner: User | None, avatar: Avatar | str | None) -> Avatar | None:
    """The avatar must be the owner's own or one shared with everybody (the library's own
    visibility rule: shared *and* its license allows redistribution)."""
    if avatar is None or avatar == "":
        return None
    if not isinstance(avatar, Avatar):
        avatar = Avatar.objects.filter(pk=avatar).first() if _is_uuid(avatar) else None
    if avatar is None or not is_visible_to(owner, avatar):
        raise AppError(_("Choose one of your avatars or a shared one."), code="invalid",
                       details={"avatar": [_("No such avatar.")]})
    return avatar


def _is_uuid(value: object) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _apply(character: Character, fields: dict[str, Any], owner: User | None) -> None:
    values = _clean_values(fields)
    if "avatar" in values:
        character.avatar = _check_avatar(owner, values.pop("avatar"))
    for name, value in values.items():
        setattr(character, name, value)
    _full_clean(character)


def _lock_owner_for_new(owner: User, needed: int = 1) -> None:
    """Precondition: inside transaction.atomic(). Serializes concurrent creates per user on the
    accounts lock; the limit itself is a fixed product limit, not a plan field."""
    lock_user(user_id=owner.pk)
    used = Character.objects.filter(owner=owner, is_draft=False).count()
    if used + needed > CharacterLimits.MAX_CHARACTERS_PER_USER:
        raise LimitExceeded(
            _("You have %(used)d characters, the most allowed is %(max)d. Delete one first.")
            % {"used": used, "max": CharacterLimits.MAX_CHARACTERS_PER_USER},
            code="character_limit_exceeded",
            details={"allowed": CharacterLimits.MAX_CHARACTERS_PER_USER, "used": used},
        )


def _delete_file_on_commit(key: str) -> None:
    if key:
        transaction.on_commit(lambda: default_storage.delete(key))


@transaction.atomic
def create_character(*, owner: User, fields: dict[str, Any]) -> Character:
    character = Character(owner=owner)
    _apply(character, fields, owner)
    _lock_owner_for_new(owner)
    character.save()
    return character


def _owned_for_update(*, user: User, character_id: Any) -> Character:
    """The user's own character, locked: 404 when they cannot see it, 403 when they only can."""
    character = selectors.get_owned_character(user=user, character_id=character_id)
    return Character.objects.select_for_update().get(pk=character.pk)


def _draft_for_update(*, user: User, draft_id: Any) -> Character:
    """The user's own wizard draft, locked (404 wizard_draft_not_found otherwise)."""
    draft = selectors.get_draft(user=user, draft_id=draft_id)
    locked = Character.objects.select_for_update().filter(pk=draft.pk, is_draft=True).first()
    if locked is None:
        raise NotFound(_("This draft no longer exists."), code="wizard_draft_not_found")
    return locked


@transaction.atomic
def update_character(*, user: User, character_id: Any, fields: dict[str, Any]) -> Character:
    locked = _owned_for_update(user=user, character_id=character_id)
    _apply(locked, fields, locked.owner)
    locked.save()
    return locked


@transaction.atomic
def delete_character(*, user: User, character_id: Any) -> None:
    character = _owned_for_update(user=user, character_id=character_id)
    key = character.portrait_key
    character.delete()
    _delete_file_on_commit(key)


@transaction.atomic
def copy_character(*, user: User, character_id: Any) -> Character:
    """A private copy, owned by `user`, of a character they may see (a preset, a public one, their own)."""
    owner = user
    source = selectors.get_visible_character(user=user, character_id=character_id)
    copy = Character(owner=owner)
    values = {name: getattr(source, name) for name in EDITABLE_FIELDS if name not in ("avatar", "visibility")}
    values["visibility"] = CharacterVisibility.PRIVATE
    if source.avatar_id and is_visible_to(owner, source.avatar):
        values["avatar"] = source.avatar
    copy.card_extras = dict(source.card_extras)
    _apply(copy, values, owner)
    _lock_owner_for_new(owner)
    copy.save()
    if source.portrait_key and default_storage.exists(source.portrait_key):
        with default_storage.open(source.portrait_key, "rb") as fh:
            data = fh.read()
        copy.portrait_key = default_storage.save(f"characters/portraits/{copy.pk}.png", ContentFile(data))
        copy.save(update_fields=["portrait_key"])
    return copy


# --- card import / export --------------------------------------------------------------------

def import_card(*, owner: User, raw: bytes, filename: str = "", content_type: str = "",
                visibility: str = CharacterVisibility.PRIVATE) -> Character:
    """Create a character from a card file. CardError (nothing saved) when it cannot be used."""
    parsed = cards.parse_card_file(raw, filename=filename, content_type=content_type)
    portrait = card_png.make_portrait(parsed.image_png) if parsed.image_png else None
    fields = {**parsed.fields, "extensions": parsed.extensions, "visibility": visibility}
    key = ""
    try:
        with transaction.atomic():
            character = Character(owner=owner, card_extras=parsed.card_extras)
            try:
                _apply(character, fields, owner)
            except AppError as exc:
                raise CardError(_("The card has values we cannot store."), code="card_invalid", details=exc.details) from None
            _lock_owner_for_new(owner)
            character.save()
            if portrait:
                key = default_storage.save(f"characters/portraits/{character.pk}.png", ContentFile(portrait))
                character.portrait_key = key
                character.save(update_fields=["portrait_key"])
    except BaseException:
        if key:
            default_storage.delete(key)
        raise
    return character


def card_image(character: Character, viewer: Any = None) -> bytes:
    """The picture for a PNG export: the portrait, else the VRM avatar's thumbnail (only when
    `viewer` may see that avatar: a public character may use its owner's private avatar, whose
    picture must not leave through the card), else the built-in 2D avatar's portrait (presets
    have one), else a generated card image with the name's initial."""
    if character.portrait_key:
        try:
            with default_storage.open(character.portrait_key, "rb") as fh:
                data = fh.read()
            if card_png.is_png(data):
                return data
        except OSError:
            logger.warning("Portrait %s missing for character %s", character.portrait_key, character.pk)
    thumbnail = _avatar_thumbnail_png(character, viewer)
    if thumbnail:
        return thumbnail
    builtin = portraits.portrait_png(character.builtin_avatar)
    if builtin:
        return builtin
    return card_png.generated_card_image(name=character.name, seed=str(character.pk))


def _avatar_thumbnail_png(character: Character, viewer: Any = None) -> bytes | None:
    """The library avatar's own thumbnail (WebP, made by our avatar code) as PNG, or None."""
    avatar = character.avatar if character.avatar_id else None
    if avatar is None or not avatar.thumbnail_key or avatar.thumbnail_is_placeholder:
        return None
    if not is_visible_to(viewer, avatar):
        return None
    from PIL import Image

    try:
        with Image.open(io.BytesIO(read_thumbnail(avatar))) as img:
            img.load()
            out = io.BytesIO()
            img.convert("RGBA").save(out, "PNG")
            return out.getvalue()
    except Exception:  # noqa: BLE001 - a missing or unreadable thumbnail only means a generated picture
        logger.warning("Avatar thumbnail unreadable for character %s", character.pk, exc_info=True)
        return None


def export_card(*, user: Any, character_id: Any, version: str, as_png: bool) -> tuple[bytes, str, str]:
    """(bytes, content type, file name) of a character `user` may see as a V2/V3 card in JSON or
    PNG. The user also decides whether the avatar's picture may be used (card_image)."""
    character = selectors.get_visible_character(user=user, character_id=character_id)
    viewer = user
    if version not in ("v2", "v3"):
        raise AppError(_("Choose the card format v2 or v3."), code="invalid", details={"format": ["v2", "v3"]})
    slug = _file_slug(character.name)
    if as_png:
        return cards.card_png_bytes(character, version, card_image(character, viewer)), "image/png", f"{slug}.{version}.png"
    return cards.card_json_bytes(cards.character_to_card(character, version)), "application/json", f"{slug}.{version}.json"


def _file_slug(name: str) -> str:
    """An ASCII file name: header injection and path tricks are impossible by construction."""
    import re

    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:60]
    return slug or "character"


# --- presets ------------------------------------------------------------------------------------

def preset_files(directory: Path | None = None) -> list[Path]:
    return sorted((directory or PRESETS_DIR).glob("*.json"))


@transaction.atomic
def load_presets(*, directory: Path | None = None) -> tuple[int, int]:
    """Create or update the preset characters from the data files: (created, updated).

    Idempotent: a preset is identified by (key, language); running twice changes nothing."""
    created = updated = 0
    for path in preset_files(directory):
        spec = json.loads(path.read_text(encoding="utf-8"))
        key = spec["key"]
        common = {k: v for k, v in spec.items() if k not in ("key", "translations")}
        for language, translated in spec["translations"].items():
            fields = {**common, **translated, "language": language, "visibility": CharacterVisibility.PUBLIC}
            character = Character.objects.filter(preset_key=key, language=language).first()
            is_new = character is None
            if is_new:
                character = Character(preset_key=key, owner=None, featured=True)  # admins may unfeature it
            before = None if is_new else {name: getattr(character, name) for name in fields}
            try:
                _apply(character, fields, None)
            except AppError as exc:
                raise ValueError(f"Preset {path.name} ({language}) is invalid: {exc.details}") from exc
            if is_new:
                character.save()
                created += 1
            elif before != {name: getattr(character, name) for name in fields}:
                character.save()
                updated += 1
    return created, updated


# --- wizard ---------------------------------------------------------------------------------------

def _wizard_rate(owner: User) -> None:
    """At most WIZARD_GENERATIONS_PER_HOUR LLM generations per user per hour (API and pages)."""
    bucket = int(time.time() // 3600)
    key = f"persona-wizard:{owner.pk}:{bucket}"
    cache.add(key, 0, timeout=3700)
    try:
        used = cache.incr(key)
    except ValueError:
        used = 1
    if used > WIZARD_GENERATIONS_PER_HOUR:
        raise TooManyRequests(
            _("You generated many characters in the last hour. Try again later."),
            code="wizard_rate_limited", retry_after=3600 - int(time.time()) % 3600,
        )


def _identity(name: str, category: str, source_work: str, language: str) -> dict[str, str]:
    values = _clean_values({"name": name, "category": category, "source_work": source_work, "language": language})
    errors: dict[str, list[str]] = {}
    if not values["name"]:
        errors["name"] = [_("Give the character a name.")]
    elif len(values["name"]) > 100:
        errors["name"] = [_("At most 100 characters.")]
    if values["category"] not in CharacterCategory.values:
        errors["category"] = [_("Choose a category.")]
    if len(values["source_work"]) > 200:
        errors["source_work"] = [_("At most 200 characters.")]
    if values["language"] not in ("en", "ko"):
        errors["language"] = [_("Choose English or Korean.")]
    if errors:
        raise AppError(_("Some fields are invalid."), code="invalid", details=errors)
    return values


def _generate(identity: dict[str, str], owner: User, *, allowance: int, progress_id: uuid.UUID | None = None) -> dict[str, str]:
    """A sheet the person can use, asking the model up to `allowance` times (the draft's
    generations left: retries stay within the three-generation limit) while the time budget
    lasts. Only a refused answer (wizard_invalid_output) is asked again, and it does not use up
    one of the draft's generations; other failures (the model is down) end at once.

    With a `progress_id`, the page can follow the fields being written and cancel
    (wizard_progress.py); the answer streams either way, so a budget overrun stops the model."""
    started = time.monotonic()
    progress = wizard_progress.Progress(user_id=owner.pk, progress_id=progress_id, budget_s=wizard.sheet_budget_s())
    try:
        return _generate_tries(identity, owner, allowance, started, progress)
    finally:
        progress.finish()


def _generate_tries(identity: dict[str, str], owner: User, allowance: int, started: float,
                    progress: wizard_progress.Progress) -> dict[str, str]:
    tries = 0
    while True:
        _wizard_rate(owner)
        tries += 1
        progress.new_try()
        try:
            return wizard.generate_sheet(**identity, on_text=progress.on_text)
        except AppError as exc:
            if exc.code != "wizard_invalid_output":
                raise
            if tries < allowance and time.monotonic() - started < WIZARD_RETRY_BUDGET_S:
                logger.info("wizard: refused answer (%s), asking again", (exc.details or {}).get("reason"))
                continue
            raise AppError(
                _("The language model could not write a usable character sheet (%(n)d tries). "
                  "Write the fields yourself, or try again later or with another model.") % {"n": tries},
                code="wizard_invalid_output", status=502, details={**(exc.details or {}), "tries": tries},
            ) from exc


def _limit_error(draft: Character) -> AppError:
    return AppError(
        _("This character was already generated %(n)d times, the most allowed. Edit the fields yourself and save.")
        % {"n": CharacterLimits.WIZARD_MAX_GENERATIONS},
        code="wizard_generation_limit", status=403,
        details={"max_generations": CharacterLimits.WIZARD_MAX_GENERATIONS, "used": draft.generation_count},
    )


def start_wizard(*, owner: User, name: str, category: str, source_work: str = "", language: str = "en",
                 progress_id: uuid.UUID | None = None) -> Character:
    """Step 1: generate the sheet, then save it as a draft with one generation used.

    The LLM call happens outside any transaction (it can take a minute); if it fails nothing
    is saved. The user's oldest drafts beyond MAX_DRAFTS_PER_USER are discarded."""
    identity = _identity(name, category, source_work, language)
    sheet = _generate(identity, owner, allowance=CharacterLimits.WIZARD_MAX_GENERATIONS, progress_id=progress_id)
    with transaction.atomic():
        lock_user(user_id=owner.pk)  # one user's concurrent starts trim their drafts in turn
        stale = list(Character.objects.filter(owner=owner, is_draft=True).order_by("-created_at")
                     .values_list("pk", flat=True)[CharacterLimits.MAX_DRAFTS_PER_USER - 1:])
        if stale:
            Character.objects.filter(pk__in=stale).delete()
        draft = Character(owner=owner, is_draft=True, generation_count=1, visibility=CharacterVisibility.PRIVATE)
        _apply(draft, {**identity, **sheet}, owner)
        draft.save()
    return draft


def regenerate_wizard(*, user: User, draft_id: Any, name: str | None = None, category: str | None = None,
                      source_work: str | None = None, progress_id: uuid.UUID | None = None) -> Character:
    """Step 2's "generate again": at most WIZARD_MAX_GENERATIONS generations per draft in all.

    The slot is taken with one conditional UPDATE before the LLM call (so concurrent requests
    cannot both take the last one) and given back if the generation fails."""
    draft = selectors.get_draft(user=user, draft_id=draft_id)
    identity = _identity(
        draft.name if name is None else name,
        draft.category if category is None else category,
        draft.source_work if source_work is None else source_work,
        draft.language,
    )
    taken = Character.objects.filter(
        pk=draft.pk, is_draft=True, generation_count__lt=CharacterLimits.WIZARD_MAX_GENERATIONS
    ).update(generation_count=F("generation_count") + 1)
    if not taken:
        draft.refresh_from_db(fields=["generation_count"])
        raise _limit_error(draft)
    try:
        # The slot just taken is one of the generations left, so as many tries as were left.
        sheet = _generate(identity, draft.owner, allowance=CharacterLimits.WIZARD_MAX_GENERATIONS - draft.generation_count,
                          progress_id=progress_id)
    except BaseException:
        Character.objects.filter(pk=draft.pk, generation_count__gt=0).update(generation_count=F("generation_count") - 1)
        raise
    with transaction.atomic():
        locked = Character.objects.select_for_update().get(pk=draft.pk)
        _apply(locked, {**identity, **sheet}, locked.owner)
        locked.save()
    return locked


@transaction.atomic
def finish_wizard(*, user: User, draft_id: Any, fields: dict[str, Any]) -> Character:
    """Step 2's "save": the edited fields make the draft a real character."""
    locked = _draft_for_update(user=user, draft_id=draft_id)
    _apply(locked, fields, locked.owner)
    _lock_owner_for_new(locked.owner)
    locked.is_draft = False
    locked.save()
    return locked


def discard_wizard(*, user: User, draft_id: Any) -> None:
    draft = selectors.get_draft(user=user, draft_id=draft_id)
    Character.objects.filter(pk=draft.pk, is_draft=True).delete()

