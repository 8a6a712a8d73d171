"""API shapes of AI characters. Validation of limits comes from the model fields; the services
check the rest (avatar ownership, counts). No business logic here."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Character, CharacterReport, ReportReason
from ..models.personas import CharacterCategory, CharacterLimits, CharacterVisibility, validate_extensions
from ..models.reports import MAX_REPORT_DETAILS
from .selectors import LIST_SCOPES
from .services import EDITABLE_FIELDS
from .wizard import GENERATED_FIELDS


@extend_schema_field({"type": "object", "additionalProperties": True})
class JsonObjectField(serializers.JSONField):
    """A JSON object. A multipart or form body carries JSON as text, so `null`, `[]` or `1` arrive
    as valid JSON that is not an object; refused here as a field error (the column holds objects)."""

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("Must be a JSON object."), code="not_an_object")
        return value


def _portrait_url(obj: Character) -> str | None:
    return reverse("api:character-portrait", args=[obj.pk]) if obj.portrait_key else None


class CharacterSerializer(serializers.ModelSerializer):
    avatar = serializers.UUIDField(source="avatar_id", allow_null=True, required=False,
                                   help_text="Id of one of your VRM avatars (or a shared one); null for none.")
    tags = serializers.ListField(child=serializers.CharField(max_length=CharacterLimits.MAX_TAG_LENGTH),
                                 max_length=CharacterLimits.MAX_TAGS, required=False)
    alternate_greetings = serializers.ListField(
        child=serializers.CharField(max_length=CharacterLimits.MAX_GREETING_LENGTH, allow_blank=True),
        max_length=CharacterLimits.MAX_GREETINGS, required=False,
    )
    extensions = JsonObjectField(required=False, validators=[validate_extensions],
                                 help_text="Unknown Character Card extensions, kept as they are.")
    preset_key = serializers.CharField(
        read_only=True, help_text="The preset's slug for a built-in character; empty for everyone else's.")
    is_preset = serializers.BooleanField(read_only=True)
    is_owner = serializers.SerializerMethodField()
    avatar_ref = serializers.CharField(read_only=True, allow_null=True,
                                       help_text="`avatar:<uuid>` (VRM), `builtin:<key>` (2D) or null.")
    portrait_url = serializers.SerializerMethodField()
    featured = serializers.BooleanField(read_only=True, help_text="Shown in everybody's default list (set by admins).")
    is_hidden = serializers.BooleanField(
        read_only=True, help_text="Hidden by moderators: only you, the owner, still see it, and nobody else can chat with it.")
    links = serializers.SerializerMethodField()

    class Meta:
        model = Character
        fields = [
            "id", *EDITABLE_FIELDS, "preset_key", "is_preset", "is_owner", "avatar_ref", "portrait_url",
            "featured", "is_hidden", "card_extras", "created_at", "updated_at", "links",
        ]
        read_only_fields = ["id", "preset_key", "card_extras", "created_at", "updated_at"]
        # No model-derived UniqueTogetherValidator for (preset_key, language): preset_key is read-only
        # here (always "" for what this serializer creates), so it could never fail, and its
        # conditional check runs Q.check(), which swallows database errors: during a PostgreSQL
        # outage a create then answered 400 "must make a unique set" instead of 503 (bench.faults).
        validators: list = []

    def get_is_owner(self, obj: Character) -> bool:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return bool(user is not None and user.is_authenticated and obj.owner_id == user.pk)

    def get_portrait_url(self, obj: Character) -> str | None:
        return _portrait_url(obj)

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_links(self, obj: Character) -> dict[str, str]:
        return {
            "page": reverse("persona_detail", args=[obj.pk]),
            "export": reverse("api:character-export", args=[obj.pk]),
            "chat": reverse("chat_home") + f"?character={obj.pk}",
        }

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values = super().to_internal_value(data)
        if "avatar_id" in values:
            values["avatar"] = values.pop("avatar_id")
        return values


class CharacterSummarySerializer(serializers.ModelSerializer):
    is_preset = serializers.BooleanField(read_only=True)
    is_owner = serializers.SerializerMethodField()
    avatar_ref = serializers.CharField(read_only=True, allow_null=True)
    portrait_url = serializers.SerializerMethodField()
    excerpt = serializers.SerializerMethodField()
    is_hidden = serializers.BooleanField(read_only=True)

    class Meta:
        model = Character
        fields = [
            "id", "name", "nickname", "category", "source_work", "job", "language", "visibility", "tags",
            "is_preset", "is_owner", "avatar_ref", "portrait_url", "excerpt", "featured", "is_hidden",
            "created_at", "updated_at",
        ]
        read_only_fields = fields

    def get_is_owner(self, obj: Character) -> bool:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return bool(user is not None and user.is_authenticated and obj.owner_id == user.pk)

    def get_portrait_url(self, obj: Character) -> str | None:
        return _portrait_url(obj)

    def get_excerpt(self, obj: Character) -> str:
        text = obj.description.strip()
        return text if len(text) <= 200 else text[:199] + "…"


class CharacterListQuerySerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=100)
    category = serializers.ChoiceField(choices=CharacterCategory.choices, required=False, allow_blank=True)
    scope = serializers.ChoiceField(
        choices=list(LIST_SCOPES), required=False, default="featured",
        help_text="featured (default): yours plus featured ones (presets included); all: yours plus every public one; "
                  "mine; public; presets.")
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False, allow_blank=True)


class CharacterDraftSerializer(CharacterSerializer):
    generations_left = serializers.IntegerField(read_only=True)
    max_generations = serializers.SerializerMethodField()

    class Meta(CharacterSerializer.Meta):
        fields = [*CharacterSerializer.Meta.fields, "generation_count", "generations_left", "max_generations"]
        read_only_fields = [*CharacterSerializer.Meta.read_only_fields, "generation_count"]

    def get_max_generations(self, obj: Character) -> int:
        return CharacterLimits.WIZARD_MAX_GENERATIONS

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_links(self, obj: Character) -> dict[str, str]:
        return {
            "page": reverse("persona_wizard_edit", args=[obj.pk]),
            "regenerate": reverse("api:character-wizard-regenerate", args=[obj.pk]),
            "finish": reverse("api:character-wizard-finish", args=[obj.pk]),
        }


PROGRESS_HELP = ("A random id you choose: while the request runs, GET /api/characters/wizard/progress/<id> "
                 "shows the field being written, and DELETE cancels the generation.")


class WizardStartSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    category = serializers.ChoiceField(choices=CharacterCategory.choices, default=CharacterCategory.ORIGINAL)
    source_work = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False,
                                       help_text="Language of the generated text; default: the request's language.")
    progress_id = serializers.UUIDField(required=False, help_text=PROGRESS_HELP)


class WizardRegenerateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    category = serializers.ChoiceField(choices=CharacterCategory.choices, required=False)
    source_work = serializers.CharField(max_length=200, required=False, allow_blank=True)
    progress_id = serializers.UUIDField(required=False, help_text=PROGRESS_HELP)


class WizardProgressSerializer(serializers.Serializer):
    """A running generation, as GET /api/characters/wizard/progress/<id> shows it."""

    field = serializers.ChoiceField(choices=[(f, f) for f in GENERATED_FIELDS], allow_null=True,
                                    help_text="The field the model is writing now (null before the first).")
    done = serializers.IntegerField(min_value=0, help_text="Fields written so far.")
    total = serializers.IntegerField(min_value=1)
    tokens = serializers.IntegerField(min_value=0, help_text="Pieces of text received in this try.")
    attempt = serializers.IntegerField(min_value=1, help_text="Which try (a refused answer is asked again).")
    cancelled = serializers.BooleanField(help_text="A cancel was asked for; the generation stops within a second.")


class CardImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A Character Card: PNG with a `ccv3` or `chara` chunk (at most 5 MB), "
                                           "or JSON (V1, V2 or V3; at most 1 MB).")
    visibility = serializers.ChoiceField(choices=CharacterVisibility.choices, default=CharacterVisibility.PRIVATE)


class CardExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=["v2", "v3"], default="v3")
    # "as" is a Python keyword: declared through the fields mapping below.


CardExportQuerySerializer._declared_fields["as"] = serializers.ChoiceField(choices=["json", "png"], default="json")


class CharacterReportSerializer(serializers.ModelSerializer):
    """A report on someone else's character: what the reporter sends and gets back."""

    reason = serializers.ChoiceField(choices=ReportReason.choices)
    details = serializers.CharField(max_length=MAX_REPORT_DETAILS, required=False, allow_blank=True, default="",
                                    trim_whitespace=True, help_text="What is wrong, in your words (optional).")

    class Meta:
        model = CharacterReport
        fields = ["id", "character", "reason", "details", "status", "created_at"]
        read_only_fields = ["id", "character", "status", "created_at"]
