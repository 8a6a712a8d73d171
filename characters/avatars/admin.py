"""Admin of the avatar library. Avatars added here go through the same upload service as users'
uploads (validation, limits, encryption); stored objects are deleted with the rows."""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from avatarforge.errors import AppError

from ..models import Actor, Avatar
from . import services
from .actor_settings import validate_settings


class AvatarAddForm(forms.ModelForm):
    file = forms.FileField(label=_("VRM or GLB file"))
    on_conflict = forms.ChoiceField(
        label=_("If the owner has an avatar with the same name"),
        choices=[("", _("Refuse")), ("overwrite", _("Overwrite it")), ("keep_both", _("Keep both"))],
        required=False,
    )

    class Meta:
        model = Avatar
        fields = ["owner", "owner_is_author", "owner_has_license"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        owner: User | None = data.get("owner")
        upload = data.get("file")
        if owner is None or upload is None or self.errors:
            return data
        try:
            self.created = services.create_avatar_from_file(
                owner=owner,
                file=upload,
                filename=upload.name or "",
                on_conflict=data.get("on_conflict") or None,
                owner_is_author=bool(data.get("owner_is_author")),
                owner_has_license=bool(data.get("owner_has_license")),
            )
        except AppError as exc:
            raise forms.ValidationError(f"{exc.message} ({exc.code})") from None
        return data

    def save(self, commit: bool = True) -> Avatar:
        self.instance = self.created
        self.save_m2m = lambda: None  # the service saved everything; Avatar has no m2m
        return self.created


class AvatarChangeForm(forms.ModelForm):
    class Meta:
        model = Avatar
        fields = ["name", "is_shared", "owner_is_author", "owner_has_license"]

    def clean_is_shared(self) -> bool:
        value = self.cleaned_data["is_shared"]
        if value and not self.instance.redistribution_allowed:
            raise forms.ValidationError(_("The license does not allow redistribution."))
        return value


@admin.register(Avatar)
class AvatarAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "vrm_version", "performance_rank", "avatar_permission", "license_name", "is_shared", "file_size", "created_at")
    list_filter = ("vrm_version", "performance_rank", "avatar_permission", "is_shared", "redistribution_allowed", "thumbnail_is_placeholder")
    search_fields = ("name", "original_filename", "file_hash", "owner__email")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    readonly_fields = (
        "id", "owner", "original_filename", "vrm_version", "spec_version", "exporter", "file_hash", "file_size",
        "storage_key", "encryption_key_id", "thumbnail_key", "thumbnail_is_placeholder", "performance_rank",
        "avatar_permission", "redistribution_allowed", "commercial_use_allowed", "license_name", "meta", "warnings",
        "created_at", "updated_at",
    )

    def get_form(self, request: HttpRequest, obj: Avatar | None = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["form"] = AvatarChangeForm if obj else AvatarAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Avatar | None = None) -> Any:
        return self.readonly_fields if obj else ()

    def get_fieldsets(self, request: HttpRequest, obj: Avatar | None = None) -> Any:
        if obj is None:
            return [(None, {"fields": ["owner", "file", "on_conflict", "owner_is_author", "owner_has_license"]})]
        return [
            (None, {"fields": ["id", "owner", "name", "is_shared", "owner_is_author", "owner_has_license"]}),
            (_("File"), {"fields": ["original_filename", "vrm_version", "spec_version", "exporter", "file_hash", "file_size",
                                    "storage_key", "encryption_key_id", "thumbnail_key", "thumbnail_is_placeholder"]}),
            (_("License and quality"), {"fields": ["avatar_permission", "redistribution_allowed", "commercial_use_allowed",
                                                   "license_name", "performance_rank", "warnings", "meta"]}),
            (None, {"fields": ["created_at", "updated_at"]}),
        ]

    def save_model(self, request: HttpRequest, obj: Avatar, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
        # Added avatars were already created (and stored) by the upload service in the form.

    # Deleting rows here also deletes their stored objects (characters.avatars.signals).


class ActorAdminForm(forms.ModelForm):
    class Meta:
        model = Actor
        fields = ["owner", "name", "avatar", "settings"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        avatar = data.get("avatar")
        owner = data.get("owner")
        if avatar is not None and owner is not None and avatar.owner_id != owner.pk:
            raise forms.ValidationError(_("The avatar must belong to the actor's owner."))
        try:
            expressions = []
            if avatar is not None:
                found = (avatar.meta or {}).get("expressions") or {}
                expressions = list(found.get("presets") or []) + list(found.get("custom") or [])
            data["settings"] = validate_settings(data.get("settings"), expressions=expressions)
        except AppError as exc:
            raise forms.ValidationError(f"{exc.message} {exc.details}") from None
        return data


@admin.register(Actor)
class ActorAdmin(admin.ModelAdmin):
    form = ActorAdminForm
    list_display = ("name", "owner", "avatar", "created_at", "updated_at")
    list_filter = ("created_at",)
    search_fields = ("name", "owner__email", "avatar__name")
    raw_id_fields = ("owner", "avatar")
    list_select_related = ("owner", "avatar")
