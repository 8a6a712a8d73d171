"""DRF serializers of the avatar library API (input validation and output shapes).

Top-level fields are snake_case like the rest of the API; `meta` is the normalized VRM record
(characters.avatars.formats.vrm_meta), whose keys are camelCase as in the VRM specification.
"""
from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Actor, Avatar
from .actor_settings import SETTINGS_SCHEMA
from .formats.vrm_meta import RANK_THRESHOLDS
from .license_card import license_card, license_summary
from .selectors import warnings_for

MAX_RESOLVE_ENTRIES = 500


class WarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField()


class LicenseRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    state = serializers.ChoiceField(choices=["allowed", "denied", "required", "limited", "unknown"])
    value = serializers.CharField()


class AvatarSerializer(serializers.ModelSerializer):
    version = serializers.CharField(source="vrm_version")
    thumbnail_url = serializers.SerializerMethodField()
    file_url = serializers.SerializerMethodField()
    is_owner = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField()

    class Meta:
        model = Avatar
        fields = [
            "id", "name", "original_filename", "version", "spec_version", "exporter", "file_hash", "file_size",
            "performance_rank", "avatar_permission", "redistribution_allowed", "commercial_use_allowed",
            "license_name", "is_shared", "owner_is_author", "owner_has_license", "is_owner",
            "thumbnail_url", "file_url", "warnings", "created_at", "updated_at",
        ]
        read_only_fields = fields

    def get_thumbnail_url(self, obj: Avatar) -> str:
        return reverse("api:avatar-thumbnail", kwargs={"avatar_id": obj.pk})

    def get_file_url(self, obj: Avatar) -> str:
        return reverse("api:avatar-file", kwargs={"avatar_id": obj.pk})

    def get_is_owner(self, obj: Avatar) -> bool:
        request = self.context.get("request")
        return bool(request and obj.owner_id == request.user.pk)

    @extend_schema_field(WarningSerializer(many=True))
    def get_warnings(self, obj: Avatar) -> list[dict[str, Any]]:
        return warnings_for(obj)


class AvatarDetailSerializer(AvatarSerializer):
    meta = serializers.JSONField(read_only=True, help_text=_("The normalized VRM record (see characters/vrm_meta.py)."))
    license_card = serializers.SerializerMethodField()
    license = serializers.SerializerMethodField()
    rank_thresholds = serializers.SerializerMethodField()
    actors = serializers.SerializerMethodField()

    class Meta(AvatarSerializer.Meta):
        fields = [*AvatarSerializer.Meta.fields, "meta", "license_card", "license", "rank_thresholds", "actors"]
        read_only_fields = fields

    @extend_schema_field(LicenseRowSerializer(many=True))
    def get_license_card(self, obj: Avatar) -> list[dict[str, str]]:
        return license_card(obj.meta or {})

    @extend_schema_field(serializers.DictField())
    def get_license(self, obj: Avatar) -> dict[str, Any]:
        return license_summary(obj.meta or {})

    @extend_schema_field(serializers.DictField())
    def get_rank_thresholds(self, obj: Avatar) -> dict[str, dict[str, int]]:
        return RANK_THRESHOLDS

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_actors(self, obj: Avatar) -> list[dict[str, Any]]:
        request = self.context.get("request")
        if not request or obj.owner_id != request.user.pk:
            return []
        return [{"id": a.pk, "name": a.name} for a in obj.actors.all().order_by("name")]


class AvatarUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("A .vrm (VRM 0.x or 1.0) or .glb file, sent as multipart/form-data."))
    name = serializers.CharField(required=False, allow_blank=True, max_length=128)
    on_conflict = serializers.ChoiceField(
        choices=["overwrite", "keep_both"], required=False, allow_blank=True,
        help_text=_("What to do when an avatar with the same name and VRM version but different content exists."),
    )
    owner_is_author = serializers.BooleanField(required=False, default=False)
    owner_has_license = serializers.BooleanField(required=False, default=False)


class AvatarUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=128)
    is_shared = serializers.BooleanField(required=False)
    owner_is_author = serializers.BooleanField(required=False)
    owner_has_license = serializers.BooleanField(required=False)


class ResolveEntrySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    file_hash = serializers.RegexField(r"^[0-9a-fA-F]{64}$", required=False)
    fileHash = serializers.RegexField(r"^[0-9a-fA-F]{64}$", required=False, help_text=_("Alias of file_hash."))  # noqa: N815

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        value = attrs.get("file_hash") or attrs.get("fileHash")
        if not value:
            raise serializers.ValidationError({"file_hash": _("This field is required.")})
        return {"id": str(attrs["id"]), "fileHash": value.lower()}


class ResolveRequestSerializer(serializers.Serializer):
    avatars = ResolveEntrySerializer(many=True, max_length=MAX_RESOLVE_ENTRIES)


class ResolveChangedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    file_hash = serializers.CharField(source="fileHash")
    file_size = serializers.IntegerField(source="fileSize")
    name = serializers.CharField()
    url = serializers.CharField(help_text=_("Short-lived download URL; works without a session until it expires."))
    expires_in = serializers.IntegerField(source="expiresIn", help_text=_("Seconds the URL stays valid."))


class ResolveResponseSerializer(serializers.Serializer):
    current = serializers.ListField(child=serializers.UUIDField(), help_text=_("Cached copies that are up to date."))
    changed = ResolveChangedSerializer(many=True)
    gone = serializers.ListField(child=serializers.UUIDField(), help_text=_("Deleted, or no longer visible to you: drop them."))


@extend_schema_field({"type": "object", **SETTINGS_SCHEMA})
class ActorSettingsField(serializers.JSONField):
    pass


class ActorSerializer(serializers.ModelSerializer):
    avatar = serializers.UUIDField(source="avatar_id")
    avatar_name = serializers.CharField(source="avatar.name", read_only=True)
    settings = ActorSettingsField()

    class Meta:
        model = Actor
        fields = ["id", "name", "avatar", "avatar_name", "settings", "created_at", "updated_at"]
        read_only_fields = ["id", "avatar_name", "created_at", "updated_at"]


class ActorWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    avatar = serializers.UUIDField()
    settings = ActorSettingsField(required=False)


class ActorUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64, required=False)
    avatar = serializers.UUIDField(required=False)
    settings = ActorSettingsField(required=False)
