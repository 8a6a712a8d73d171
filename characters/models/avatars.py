"""VRM avatar library and actors.

An Avatar is one uploaded VRM/GLB file: its bytes live encrypted in the default storage under
`storage_key`; everything the file declares is normalized once at upload into `meta` (one record
for VRM 0.x, 1.0 and plain glTF), with a few license fields copied to columns so that queries and
rules ("may this be shared?", "may this be used in a call?") never parse JSON.

An Actor binds one avatar to tracker settings; the number of actors is a plan limit.
"""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["Avatar", "Actor", "AvatarPermission", "VrmVersion", "PerformanceRank"]


class VrmVersion(models.TextChoices):
    VRM0 = "0.x", _("VRM 0.x")
    VRM1 = "1.0", _("VRM 1.0")
    GLTF = "gltf", _("Plain glTF")


class AvatarPermission(models.TextChoices):
    """Who may use (perform as) the avatar, normalized across 0.x allowedUserName and 1.0
    avatarPermission."""

    ONLY_AUTHOR = "onlyAuthor", _("Only the author")
    ONLY_LICENSED = "onlySeparatelyLicensedPerson", _("Only explicitly licensed persons")
    EVERYONE = "everyone", _("Everyone")
    UNKNOWN = "unknown", _("Not declared")


class PerformanceRank(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent")
    GOOD = "good", _("Good")
    MEDIUM = "medium", _("Medium")
    POOR = "poor", _("Poor")


class Avatar(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="avatars", verbose_name=_("owner")
    )
    name = models.CharField(_("name"), max_length=128)
    original_filename = models.CharField(_("original file name"), max_length=255, blank=True)
    vrm_version = models.CharField(_("VRM version"), max_length=8, choices=VrmVersion.choices)
    spec_version = models.CharField(_("declared spec version"), max_length=32, blank=True)
    exporter = models.CharField(_("exporter"), max_length=128, blank=True)

    file_hash = models.CharField(_("file hash (SHA-256)"), max_length=64, db_index=True)
    file_size = models.PositiveBigIntegerField(_("file size (bytes)"))
    storage_key = models.CharField(_("storage key"), max_length=255, unique=True)
    encryption_key_id = models.CharField(_("encryption key id"), max_length=16)
    thumbnail_key = models.CharField(_("thumbnail storage key"), max_length=255, blank=True)
    thumbnail_is_placeholder = models.BooleanField(_("placeholder thumbnail"), default=False)

    meta = models.JSONField(_("normalized metadata"), default=dict)
    warnings = models.JSONField(_("warnings"), default=list)
    performance_rank = models.CharField(_("performance rank"), max_length=16, choices=PerformanceRank.choices)

    # License columns (copied from meta) used by rules and filters.
    avatar_permission = models.CharField(
        _("avatar permission"), max_length=32, choices=AvatarPermission.choices, default=AvatarPermission.UNKNOWN
    )
    redistribution_allowed = models.BooleanField(_("redistribution allowed"), default=False)
    commercial_use_allowed = models.BooleanField(_("commercial use allowed"), default=False)
    license_name = models.CharField(_("license"), max_length=255, blank=True)

    owner_is_author = models.BooleanField(
        _("uploader declares they are the author"),
        default=False,
        help_text=_("Needed to use an author-only avatar in a call."),
    )
    owner_has_license = models.BooleanField(
        _("uploader declares they hold a license from the author"),
        default=False,
        help_text=_("Needed to use an avatar restricted to explicitly licensed persons in a call."),
    )
    is_shared = models.BooleanField(
        _("shared with other users"),
        default=False,
        help_text=_("Only possible when the license allows redistribution."),
    )

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("avatar")
        verbose_name_plural = _("avatars")
        constraints = [
            # The same bytes are stored once per user: a second upload is answered with the first.
            models.UniqueConstraint(fields=["owner", "file_hash"], name="avatar_unique_hash_per_owner"),
        ]
        indexes = [models.Index(fields=["owner", "name", "vrm_version"], name="avatar_owner_name_version")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_vrm_version_display()})"


class Actor(models.Model):
    """One avatar plus tracker settings (validated against characters.avatars.actor_settings)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="actors", verbose_name=_("owner")
    )
    name = models.CharField(_("name"), max_length=64)
    # RESTRICT: an avatar cannot be deleted while actors use it (the delete service says which),
    # but deleting the user deletes both (PROTECT would block deleting the account).
    avatar = models.ForeignKey(Avatar, on_delete=models.RESTRICT, related_name="actors", verbose_name=_("avatar"))
    settings = models.JSONField(_("tracker settings"), default=dict)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("actor")
        verbose_name_plural = _("actors")

    def __str__(self) -> str:
        return self.name
