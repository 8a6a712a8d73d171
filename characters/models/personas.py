"""AI character personas.

A Character is the persona an LLM plays: identity fields, the long descriptive fields of the
seed's character sheet, a default scenario, and what Character Card V2/V3 carries (greetings,
creator notes, system prompt, tags...) so that import -> export loses nothing.

Presets (written for this project, loaded by `manage.py load_presets`) have no owner and one row
per language. Wizard drafts are rows with `is_draft=True`; they are visible only in the wizard
and carry the generation counter the server enforces.

Every text field has a hard length limit (MaxLengthValidator on TextField too, because Django
only enforces CharField lengths) so forms, the API, card import and presets all share them.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["Character", "CharacterCategory", "CharacterVisibility", "BuiltinAvatar", "CharacterLimits"]


class CharacterLimits:
    """Size limits shared by the model, the API, card import and the wizard."""

    MAX_TAGS = 30
    MAX_TAG_LENGTH = 50
    MAX_GREETINGS = 20
    MAX_GREETING_LENGTH = 8000
    MAX_EXTENSIONS_BYTES = 256 * 1024  # serialized JSON
    MAX_CARD_EXTRAS_BYTES = 512 * 1024
    MAX_JSON_DEPTH = 32
    MAX_CHARACTERS_PER_USER = 200
    MAX_DRAFTS_PER_USER = 5
    WIZARD_MAX_GENERATIONS = 3  # one on step 1 plus two regenerations (seed: "총 3회")


class CharacterCategory(models.TextChoices):
    ORIGINAL = "original", _("Original")
    ANIME = "anime", _("Anime")
    GAME = "game", _("Game")
    NOVEL = "novel", _("Novel")
    FILM = "film", _("Film and TV")
    COMICS = "comics", _("Comics")
    VTUBER = "vtuber", _("VTuber")
    HISTORY = "history", _("History")
    MYTHOLOGY = "mythology", _("Myth and folklore")
    OTHER = "other", _("Other")


class CharacterVisibility(models.TextChoices):
    PRIVATE = "private", _("Private (only me)")
    UNLISTED = "unlisted", _("Unlisted (anyone with the link)")
    PUBLIC = "public", _("Public (listed for everybody)")


class BuiltinAvatar(models.TextChoices):
    """2D avatars drawn by the browser, for characters without a VRM from the library."""

    FOX = "fox", _("Fox")
    ROBOT = "robot", _("Robot")
    CAT = "cat", _("Cat")


def json_depth(value: Any) -> int:
    """Nesting depth of a JSON value, computed without recursion (hostile input may be deep)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in item)
    return deepest


def _check_json_blob(value: Any, *, max_bytes: int, label: str) -> None:
    if not isinstance(value, dict):
        raise ValidationError(_("%(label)s must be a JSON object.") % {"label": label}, code="invalid")
    if json_depth(value) > CharacterLimits.MAX_JSON_DEPTH:
        raise ValidationError(
            _("%(label)s is nested too deeply (at most %(n)d levels).") % {"label": label, "n": CharacterLimits.MAX_JSON_DEPTH},
            code="too_deep",
        )
    size = len(json.dumps(value, ensure_ascii=False).encode())
    if size > max_bytes:
        raise ValidationError(
            _("%(label)s is too large (%(size)d bytes, at most %(max)d).") % {"label": label, "size": size, "max": max_bytes},
            code="too_large",
        )


def validate_extensions(value: Any) -> None:
    _check_json_blob(value, max_bytes=CharacterLimits.MAX_EXTENSIONS_BYTES, label=_("Extensions"))


def validate_card_extras(value: Any) -> None:
    _check_json_blob(value, max_bytes=CharacterLimits.MAX_CARD_EXTRAS_BYTES, label=_("Card data"))


def _validate_string_list(value: Any, *, max_items: int, max_length: int, label: str) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("%(label)s must be a list of texts.") % {"label": label}, code="invalid")
    if len(value) > max_items:
        raise ValidationError(
            _("At most %(n)d %(label)s.") % {"n": max_items, "label": label}, code="too_many"
        )
    for item in value:
        if len(item) > max_length:
            raise ValidationError(
                _("Each of %(label)s may have at most %(n)d characters.") % {"label": label, "n": max_length},
                code="too_long",
            )


def validate_tags(value: Any) -> None:
    _validate_string_list(value, max_items=CharacterLimits.MAX_TAGS, max_length=CharacterLimits.MAX_TAG_LENGTH, label=_("tags"))


def validate_greetings(value: Any) -> None:
    _validate_string_list(
        value, max_items=CharacterLimits.MAX_GREETINGS, max_length=CharacterLimits.MAX_GREETING_LENGTH, label=_("greetings")
    )


def _text(verbose: str, max_length: int, **kwargs: Any) -> models.TextField:
    return models.TextField(verbose, max_length=max_length, blank=True, default="",
                            validators=[MaxLengthValidator(max_length)], **kwargs)


# Field name -> max length of every free-text field, in the order forms and prompts show them.
TEXT_FIELD_LIMITS: dict[str, int] = {
    "description": 20000,
    "personality": 8000,
    "appearance": 4000,
    "likes": 2000,
    "dislikes": 2000,
    "speech_style": 4000,
    "thoughts": 4000,
    "features": 4000,
    "habits": 2000,
    "guidelines": 4000,
    "worldview": 8000,
    "first_message": 8000,
    "example_dialogue": 20000,
    "scenario_situation": 4000,
    "scenario_background": 8000,
    "system_prompt": 8000,
    "post_history_instructions": 4000,
    "creator_notes": 8000,
}


class Character(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Null owner = a preset (system) character; only admins change those.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
        related_name="characters", verbose_name=_("owner"),
    )
    preset_key = models.SlugField(_("preset key"), max_length=64, blank=True, default="",
                                  help_text=_("Set on presets loaded from characters/presets/."))
    is_draft = models.BooleanField(_("wizard draft"), default=False)
    generation_count = models.PositiveSmallIntegerField(_("wizard generations used"), default=0)

    # identity
    name = models.CharField(_("name"), max_length=100)
    nickname = models.CharField(_("nickname"), max_length=100, blank=True, default="")
    category = models.CharField(_("category"), max_length=16, choices=CharacterCategory.choices,
                                default=CharacterCategory.ORIGINAL)
    source_work = models.CharField(_("source work"), max_length=200, blank=True, default="")
    gender = models.CharField(_("gender"), max_length=50, blank=True, default="")
    species = models.CharField(_("species"), max_length=100, blank=True, default="")
    age = models.CharField(_("age"), max_length=50, blank=True, default="")
    height = models.CharField(_("height"), max_length=50, blank=True, default="")
    job = models.CharField(_("job"), max_length=100, blank=True, default="")
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")

    # the character sheet
    description = _text(_("description"), TEXT_FIELD_LIMITS["description"])
    personality = _text(_("personality"), TEXT_FIELD_LIMITS["personality"])
    appearance = _text(_("appearance"), TEXT_FIELD_LIMITS["appearance"])
    likes = _text(_("likes"), TEXT_FIELD_LIMITS["likes"])
    dislikes = _text(_("dislikes"), TEXT_FIELD_LIMITS["dislikes"])
    speech_style = _text(_("speech style"), TEXT_FIELD_LIMITS["speech_style"])
    thoughts = _text(_("thoughts"), TEXT_FIELD_LIMITS["thoughts"])
    features = _text(_("features"), TEXT_FIELD_LIMITS["features"])
    habits = _text(_("habits"), TEXT_FIELD_LIMITS["habits"])
    guidelines = _text(_("guidelines"), TEXT_FIELD_LIMITS["guidelines"])
    worldview = _text(_("worldview"), TEXT_FIELD_LIMITS["worldview"])
    first_message = _text(_("first message"), TEXT_FIELD_LIMITS["first_message"])
    example_dialogue = _text(_("example dialogue"), TEXT_FIELD_LIMITS["example_dialogue"])

    # default scenario (seed: opponent, situation, background)
    scenario_counterpart = models.CharField(_("scenario: counterpart"), max_length=200, blank=True, default="",
                                            help_text=_("Who the user plays in the scene."))
    scenario_situation = _text(_("scenario: situation"), TEXT_FIELD_LIMITS["scenario_situation"])
    scenario_background = _text(_("scenario: background"), TEXT_FIELD_LIMITS["scenario_background"])

    # Character Card fields without a home above
    alternate_greetings = models.JSONField(_("alternate greetings"), default=list, blank=True, validators=[validate_greetings])
    tags = models.JSONField(_("tags"), default=list, blank=True, validators=[validate_tags])
    system_prompt = _text(_("system prompt"), TEXT_FIELD_LIMITS["system_prompt"])
    post_history_instructions = _text(_("post-history instructions"), TEXT_FIELD_LIMITS["post_history_instructions"])
    creator_notes = _text(_("creator notes"), TEXT_FIELD_LIMITS["creator_notes"])
    creator = models.CharField(_("creator"), max_length=100, blank=True, default="")
    character_version = models.CharField(_("character version"), max_length=50, blank=True, default="")
    # Unknown card extensions, kept byte-for-byte in meaning and written back on export.
    extensions = models.JSONField(_("card extensions"), default=dict, blank=True, validators=[validate_extensions])
    # V3-only data we keep but do not use (assets, source, group greetings, multilingual notes,
    # character_book, dates), written back on V3 export.
    card_extras = models.JSONField(_("other card data"), default=dict, blank=True, validators=[validate_card_extras])

    # presentation
    voice_id = models.CharField(_("voice id"), max_length=100, blank=True, default="",
                                help_text=_("A text-to-speech voice id."))
    voice_speed = models.FloatField(
        _("voice speed"), default=1.0, validators=[MinValueValidator(0.5), MaxValueValidator(2.0)],
        help_text=_("How fast the character speaks: 0.5 to 2.0 (1.0 is the voice's own pace)."),
    )
    avatar = models.ForeignKey(
        "characters.Avatar", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="personas", verbose_name=_("VRM avatar"),
    )
    builtin_avatar = models.CharField(_("built-in 2D avatar"), max_length=16, choices=BuiltinAvatar.choices,
                                      blank=True, default="")
    portrait_key = models.CharField(_("portrait storage key"), max_length=255, blank=True, default="")

    visibility = models.CharField(_("visibility"), max_length=16, choices=CharacterVisibility.choices,
                                  default=CharacterVisibility.PRIVATE)
    # Moderation. `featured`: shown in everybody's default list (admins set it; presets start
    # featured). `hidden_at`: hidden by an admin after reports; then only the owner sees it
    # (marked hidden) and nobody else can open or chat with it.
    featured = models.BooleanField(_("featured"), default=False,
                                   help_text=_("Shown in everybody's default character list."))
    hidden_at = models.DateTimeField(_("hidden by moderators at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("AI character")
        verbose_name_plural = _("AI characters")
        constraints = [
            models.UniqueConstraint(
                fields=["preset_key", "language"], condition=~models.Q(preset_key=""), name="character_unique_preset_language"
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "is_draft", "name"], name="character_owner_draft_name"),
            models.Index(fields=["visibility", "is_draft", "language"], name="character_visibility_lang"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_preset(self) -> bool:
        return self.owner_id is None

    @property
    def avatar_ref(self) -> str | None:
        """`avatar:<uuid>` for a library VRM, `builtin:<key>` for a 2D avatar, None when unset."""
        if self.avatar_id:
            return f"avatar:{self.avatar_id}"
        if self.builtin_avatar:
            return f"builtin:{self.builtin_avatar}"
        return None

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def generations_left(self) -> int:
        return max(0, CharacterLimits.WIZARD_MAX_GENERATIONS - self.generation_count)
