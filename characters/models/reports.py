"""Reports of AI characters by other users, for the admins' moderation queue.

A user reports someone else's character they can see (public, or unlisted through its link) with
a reason and an optional note. One open report per user per character (a database constraint,
so two concurrent requests cannot both add one). An admin then hides the character (which
resolves its open reports as acted on) or dismisses the reports.
"""
from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["CharacterReport", "ReportReason", "ReportStatus", "MAX_REPORT_DETAILS"]

MAX_REPORT_DETAILS = 1000


class ReportReason(models.TextChoices):
    SEXUAL = "sexual", _("Sexual content involving minors or without consent")
    HATE = "hate", _("Hate or harassment")
    VIOLENCE = "violence", _("Violence or self-harm")
    ILLEGAL = "illegal", _("Illegal activity")
    IMPERSONATION = "impersonation", _("Impersonates a real person")
    COPYRIGHT = "copyright", _("Copies someone else's work")
    SPAM = "spam", _("Spam or advertising")
    OTHER = "other", _("Something else")


class ReportStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACTIONED = "actioned", _("Character hidden")
    DISMISSED = "dismissed", _("Dismissed")


class CharacterReport(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    character = models.ForeignKey("characters.Character", on_delete=models.CASCADE, related_name="reports",
                                  verbose_name=_("character"))
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="character_reports",
                                 verbose_name=_("reported by"))
    reason = models.CharField(_("reason"), max_length=16, choices=ReportReason.choices)
    details = models.TextField(_("details"), max_length=MAX_REPORT_DETAILS, blank=True, default="",
                               validators=[MaxLengthValidator(MAX_REPORT_DETAILS)])
    status = models.CharField(_("status"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.OPEN)
    created_at = models.DateTimeField(_("reported at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("resolved by"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("character report")
        verbose_name_plural = _("character reports")
        constraints = [
            models.UniqueConstraint(fields=["character", "reporter"], condition=models.Q(status="open"),
                                    name="character_report_one_open_per_user"),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="character_report_status")]

    def __str__(self) -> str:
        return f"{self.character_id} ({self.get_reason_display()})"
