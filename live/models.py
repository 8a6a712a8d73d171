"""Live sessions (a character answering one stream's chat), the streamer's linked Chzzk account,
and what a character remembers about each viewer.

Viewer data is the streamer's responsibility: it is kept only while a session's memory is on, for
the retention the streamer chose (purged by Celery beat), and can be viewed and wiped.
"""
from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def new_overlay_key() -> str:
    return secrets.token_urlsafe(24)


class Platform(models.TextChoices):
    CHZZK = "chzzk", _("Chzzk")
    TEST = "test", _("Test source (type chat yourself)")


class SessionStatus(models.TextChoices):
    STOPPED = "stopped", _("Stopped")
    RUNNING = "running", _("Running")
    FAILED = "failed", _("Failed")


class ChzzkAccount(models.Model):
    """A streamer's Chzzk link from the open API's OAuth flow. Tokens are encrypted at rest."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chzzk_account",
                                verbose_name=_("user"))
    channel_id = models.CharField(_("channel id"), max_length=64)
    channel_name = models.CharField(_("channel name"), max_length=100, blank=True, default="")
    access_token = models.BinaryField(_("access token (encrypted)"))
    refresh_token = models.BinaryField(_("refresh token (encrypted)"))
    expires_at = models.DateTimeField(_("access token expires"))
    linked_at = models.DateTimeField(_("linked"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("Chzzk account")
        verbose_name_plural = _("Chzzk accounts")

    def __str__(self) -> str:
        return self.channel_name or self.channel_id


class LiveSession(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="live_sessions",
                              verbose_name=_("owner"))
    character = models.ForeignKey("characters.Character", on_delete=models.PROTECT, related_name="live_sessions",
                                  verbose_name=_("character"))
    # The live turns are a conversation like any other: history, summaries and memory come with it.
    conversation = models.ForeignKey("chat.Conversation", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("conversation"))
    title = models.CharField(_("title"), max_length=100)
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices, default=Platform.TEST)
    status = models.CharField(_("status"), max_length=16, choices=SessionStatus.choices, default=SessionStatus.STOPPED)
    status_detail = models.CharField(_("status detail"), max_length=300, blank=True, default="")
    ai_paused = models.BooleanField(_("AI paused"), default=False)
    # Selection filters, pace, memory, avatar/emotion mapping: validated by live.settings_schema.
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    overlay_key = models.CharField(_("overlay key"), max_length=64, unique=True, default=new_overlay_key)
    hide_streamer_chat = models.BooleanField(_("hide the streamer's chat on the overlay"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("live session")
        verbose_name_plural = _("live sessions")

    def __str__(self) -> str:
        return self.title


class ViewerMemory(models.Model):
    """What the character knows about one viewer of one streamer (keyed by the platform's viewer id)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="viewer_memories",
                              verbose_name=_("streamer"))
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    viewer_id = models.CharField(_("viewer id"), max_length=64)
    nickname = models.CharField(_("nickname"), max_length=40)
    recent = models.JSONField(_("what they said recently"), default=list, blank=True)
    message_count = models.PositiveIntegerField(_("messages"), default=0)
    donated_total = models.PositiveIntegerField(_("donated in total"), default=0)
    first_seen = models.DateTimeField(_("first seen"), auto_now_add=True)
    last_seen = models.DateTimeField(_("last seen"), auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "platform", "viewer_id"], name="live_viewer_unique")]
        indexes = [models.Index(fields=["owner", "last_seen"])]
        ordering = ["-last_seen"]
        verbose_name = _("viewer memory")
        verbose_name_plural = _("viewer memories")

    def __str__(self) -> str:
        return self.nickname
