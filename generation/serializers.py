"""Validation of job options (shared by the REST API, the upload page and the WebSocket) and the
documented shapes of the API's answers."""
from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from avatarforge.errors import AppError

from .chibi.params import EYE_SHAPES, HAIR_STYLES, OUTFITS
from .chibi.spec import BUILD_WIDTH
from .models import JOB_STATUS_VALUES
from .selectors import JobStatusView, summary_fields
from .stages.stylize import DEFAULT_PRESET, PRESETS

STYLE_CHOICES = [
    ("toon", gettext_lazy("Toon: bold colours and ink lines")),
    ("soft", gettext_lazy("Soft: gentle shading, thin lines")),
    ("comic", gettext_lazy("Comic: few colours, strong lines")),
    ("pastel", gettext_lazy("Pastel: light and airy")),
]
BUILD_CHOICES = [("slim", gettext_lazy("Slim")), ("regular", gettext_lazy("Regular")), ("sturdy", gettext_lazy("Sturdy"))]
AVATAR_PERMISSION_CHOICES = [
    ("onlyAuthor", gettext_lazy("Only me")),
    ("onlySeparatelyLicensedPerson", gettext_lazy("People I license separately")),
    ("everyone", gettext_lazy("Everyone")),
]
COMMERCIAL_CHOICES = [
    ("personalNonProfit", gettext_lazy("Personal, non-profit only")),
    ("personalProfit", gettext_lazy("Personal, also for profit")),
    ("corporation", gettext_lazy("Also companies")),
]
CREDIT_CHOICES = [("required", gettext_lazy("Credit me")), ("unnecessary", gettext_lazy("No credit needed"))]
MODIFICATION_CHOICES = [
    ("prohibited", gettext_lazy("No modifications")),
    ("allowModification", gettext_lazy("Modifications allowed")),
    ("allowModificationRedistribution", gettext_lazy("Modifications may be shared")),
]
COLOR_PARTS = [("skin", gettext_lazy("Skin")), ("hair", gettext_lazy("Hair")), ("top", gettext_lazy("Top")), ("bottom", gettext_lazy("Trousers")), ("shoes", gettext_lazy("Shoes"))]
HEADS_MIN, HEADS_MAX, HEADS_DEFAULT = 2.0, 3.0, 2.5
MAX_OPTIONS_BYTES = 4096

assert {c for c, _label in STYLE_CHOICES} == set(PRESETS) and DEFAULT_PRESET in PRESETS
assert {c for c, _label in BUILD_CHOICES} == set(BUILD_WIDTH)


class LicenseSerializer(serializers.Serializer):
    """VRM 1.0 license meta of the result, chosen by its author (the user)."""

    avatar_permission = serializers.ChoiceField(choices=AVATAR_PERMISSION_CHOICES, default="onlyAuthor")
    commercial_usage = serializers.ChoiceField(choices=COMMERCIAL_CHOICES, default="personalNonProfit")
    credit_notation = serializers.ChoiceField(choices=CREDIT_CHOICES, default="required")
    allow_redistribution = serializers.BooleanField(default=False)
    modification = serializers.ChoiceField(choices=MODIFICATION_CHOICES, default="prohibited")
    allow_violent = serializers.BooleanField(default=False)
    allow_sexual = serializers.BooleanField(default=False)
    allow_political = serializers.BooleanField(default=False)
    allow_antisocial = serializers.BooleanField(default=False)


class ColorsSerializer(serializers.Serializer):
    """Colours that replace the ones sampled from the photo (#rrggbb)."""

    skin = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False)
    hair = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False)
    top = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False)
    bottom = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False)
    shoes = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False)


class CropSerializer(serializers.Serializer):
    """A square head crop: centre as fractions of the photo, side as a fraction of its shorter side."""

    x = serializers.FloatField(min_value=0.0, max_value=1.0)
    y = serializers.FloatField(min_value=0.0, max_value=1.0)
    size = serializers.FloatField(min_value=0.05, max_value=1.5)


class OptionsSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    style = serializers.ChoiceField(choices=STYLE_CHOICES, default=DEFAULT_PRESET)
    heads = serializers.FloatField(min_value=HEADS_MIN, max_value=HEADS_MAX, default=HEADS_DEFAULT)
    build = serializers.ChoiceField(choices=BUILD_CHOICES, default="regular")
    colors = ColorsSerializer(required=False)
    license = LicenseSerializer(required=False)
    crop = CropSerializer(required=False)

    def validate_name(self, value: str) -> str:
        return "".join(ch for ch in value if ch.isprintable()).strip()


def clean_options(raw: Any) -> dict[str, Any]:
    """Validated, complete options from a dict or a JSON string (the seed's `options` form field)."""
    if raw in (None, ""):
        raw = {}
    if isinstance(raw, (str, bytes)):
        if len(raw) > MAX_OPTIONS_BYTES:
            raise AppError(_("The options are too long."), code="invalid", details={"options": ["too long"]})
        try:
            raw = json.loads(raw)
        except ValueError:
            raise AppError(_("The options must be a JSON object."), code="invalid", details={"options": ["not JSON"]}) from None
    if not isinstance(raw, dict):
        raise AppError(_("The options must be a JSON object."), code="invalid", details={"options": ["not an object"]})
    serializer = OptionsSerializer(data=raw)
    if not serializer.is_valid():
        raise AppError(_("Some options are invalid."), code="invalid", details=serializer.errors)
    options = dict(serializer.validated_data)
    options["license"] = dict(options.get("license") or license_defaults())
    if "colors" in options:
        options["colors"] = dict(options["colors"])
    if "crop" in options:
        options["crop"] = dict(options["crop"])
    return options


def license_defaults() -> dict[str, Any]:
    return {name: field.default for name, field in LicenseSerializer().fields.items()}


class CreateRequestSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="A JPEG, PNG or WebP photo.")
    options = serializers.CharField(required=False, help_text="JSON object: name, style, heads, build, colors, license, crop.")


class CreatedSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    status = serializers.CharField()
    status_url = serializers.CharField()
    page_url = serializers.CharField()
    estimated_time = serializers.IntegerField(help_text="Seconds, a rough estimate.")


class JobErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.JSONField(allow_null=True)


class StageSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    status = serializers.CharField()
    duration_ms = serializers.IntegerField(allow_null=True)
    preview_url = serializers.CharField(allow_null=True)
    note = serializers.CharField()


class StatusSerializer(serializers.Serializer):
    """The seed's job status (job_id, status, progress, current_step, result_url, error) and more.

    Give it a GenerationJob (its stages prefetched, as selectors.jobs_for does): it reads the
    job through selectors.JobStatusView, and its fields alone make the payload.
    """

    job_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=JOB_STATUS_VALUES)
    progress = serializers.IntegerField(min_value=0, max_value=100)
    current_step = serializers.CharField()
    stage = serializers.CharField(allow_null=True)
    result_url = serializers.CharField(allow_null=True)
    error = JobErrorSerializer(allow_null=True)
    notes = serializers.ListField(child=serializers.CharField())
    stages = StageSerializer(many=True)
    timings = serializers.DictField(child=serializers.IntegerField())
    compute_ms = serializers.IntegerField()
    duration_ms = serializers.IntegerField(allow_null=True)
    thumbnail_url = serializers.CharField(allow_null=True)
    avatar = serializers.JSONField(allow_null=True)
    face = serializers.JSONField()
    options = serializers.JSONField()
    can_cancel = serializers.BooleanField()
    can_retry = serializers.BooleanField()
    retries = serializers.IntegerField(min_value=0)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    status_url = serializers.CharField()
    page_url = serializers.CharField()
    ws_path = serializers.CharField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return super().to_representation(JobStatusView(instance))


def status_payload(job: Any) -> dict[str, Any]:
    """The job's status as the API, the job WebSocket and the job page send it."""
    return dict(StatusSerializer(job).data)


class SummarySerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    status = serializers.CharField()
    progress = serializers.IntegerField()
    current_step = serializers.CharField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField(allow_null=True)
    thumbnail_url = serializers.CharField(allow_null=True)
    result_url = serializers.CharField(allow_null=True)
    avatar = serializers.JSONField(allow_null=True)
    error = serializers.JSONField(allow_null=True)
    status_url = serializers.CharField()
    page_url = serializers.CharField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return super().to_representation(summary_fields(instance))


def summary_payload(job: Any) -> dict[str, Any]:
    """One row of the job list as the API and the upload page show it."""
    return dict(SummarySerializer(job).data)


class RecropSerializer(serializers.Serializer):
    crop = CropSerializer()


class ChoicesSerializer(serializers.Serializer):
    """What clients may choose: styles, builds, heads range, colour parts, license values, stages."""

    styles = serializers.JSONField()
    builds = serializers.JSONField()
    heads = serializers.JSONField()
    colors = serializers.JSONField()
    license = serializers.JSONField()
    stages = serializers.JSONField()
    max_upload_bytes = serializers.IntegerField()
    max_pixels = serializers.IntegerField()
    formats = serializers.ListField(child=serializers.CharField())


HAIR_STYLE_CHOICES = [
    ("short", gettext_lazy("Short")), ("bob", gettext_lazy("Bob")), ("long", gettext_lazy("Long")), ("ponytail", gettext_lazy("Ponytail")),
]
EYE_SHAPE_CHOICES = [("round", gettext_lazy("Round")), ("almond", gettext_lazy("Almond")), ("narrow", gettext_lazy("Narrow"))]
OUTFIT_CHOICES = [
    ("casual", gettext_lazy("T-shirt and trousers")), ("hoodie", gettext_lazy("Hoodie")), ("dress", gettext_lazy("Dress")),
    ("suit", gettext_lazy("Suit and tie")),
]
assert [c for c, _label in HAIR_STYLE_CHOICES] == list(HAIR_STYLES) and [c for c, _label in EYE_SHAPE_CHOICES] == list(EYE_SHAPES)
assert [c for c, _label in OUTFIT_CHOICES] == list(OUTFITS)
_HEX = r"^#[0-9a-fA-F]{6}$"


class AvatarParamsSerializer(serializers.Serializer):
    """The editable avatar parameters (generation.chibi.params.AvatarParams). On input every field
    is optional: the ones given replace the job's."""

    hair_style = serializers.ChoiceField(choices=HAIR_STYLE_CHOICES, required=False)
    hair_color = serializers.RegexField(_HEX, required=False)
    skin = serializers.RegexField(_HEX, required=False)
    eye_color = serializers.RegexField(_HEX, required=False)
    eye_shape = serializers.ChoiceField(choices=EYE_SHAPE_CHOICES, required=False)
    top = serializers.RegexField(_HEX, required=False)
    bottom = serializers.RegexField(_HEX, required=False)
    shoes = serializers.RegexField(_HEX, required=False)
    glasses = serializers.BooleanField(required=False)
    fringe = serializers.BooleanField(required=False)
    heads = serializers.FloatField(min_value=HEADS_MIN, max_value=HEADS_MAX, required=False)
    build = serializers.ChoiceField(choices=BUILD_CHOICES, required=False)
    outfit = serializers.ChoiceField(choices=OUTFIT_CHOICES, required=False)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown parameter.")] for name in unknown})
        return super().to_internal_value(data)


class ParamsUpdateSerializer(serializers.Serializer):
    params = AvatarParamsSerializer()

    def validate_params(self, value: dict) -> dict:
        if not value and not self.context.get("allow_empty"):
            raise serializers.ValidationError(_("Change at least one parameter."))
        for name in ("hair_color", "skin", "eye_color", "top", "bottom", "shoes"):
            if name in value:
                value[name] = value[name].lower()
        return value


class EstimateSerializer(serializers.Serializer):
    value = serializers.JSONField()
    confidence = serializers.FloatField(help_text="0..1; below 0.5 the default value is used.")
    source = serializers.ChoiceField(choices=["photo", "default"])


class ParamsAnswerSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    params = AvatarParamsSerializer()
    reading = serializers.DictField(child=EstimateSerializer(), help_text="What the photo said, per estimate.")
    choices = serializers.DictField(child=serializers.ListField(child=serializers.DictField()))


def params_payload(job, found: dict[str, Any]) -> dict[str, Any]:
    def pairs(choices: list) -> list[dict[str, str]]:
        return [{"value": value, "label": str(label)} for value, label in choices]

    reading = {name: {k: entry.get(k) for k in ("value", "confidence", "source")} for name, entry in found["reading"].items()}
    return ParamsAnswerSerializer({
        "job_id": job.id,
        "params": found["params"],
        "reading": reading,
        "choices": {"hair_style": pairs(HAIR_STYLE_CHOICES), "eye_shape": pairs(EYE_SHAPE_CHOICES), "build": pairs(BUILD_CHOICES),
                    "outfit": pairs(OUTFIT_CHOICES)},
    }).data


class UseAsActorSerializer(serializers.Serializer):
    replace_actor = serializers.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1,
        help_text="Switch this actor of yours to the job's avatar instead of making a new one "
                  "(the way out when actor_slots_exceeded lists your actors).",
    )


class ActorUsedSerializer(serializers.Serializer):
    actor = serializers.JSONField(help_text="The actor, as /api/actors answers it.")
    switched = serializers.BooleanField(help_text="true: an existing actor now uses the avatar; false: a new actor.")


def actor_used_payload(actor: Any, switched: bool) -> dict[str, Any]:
    from characters.avatars.serializers import ActorSerializer

    return dict(ActorUsedSerializer({"actor": ActorSerializer(actor).data, "switched": switched}).data)
