"""What the inference app stores: synthesized speech clips (the TTS API's cache)."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def clip_path(instance: TtsClip, filename: str) -> str:
    # Private storage path: never guessable from the file id alone, served only through the API.
    return f"tts/{instance.owner_id}/{instance.id.hex}.wav"


class TtsClip(models.Model):
    """One synthesized utterance, cached per owner under a key of every input and the engine."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tts_clips", verbose_name=_("owner"))
    cache_key = models.CharField(_("cache key"), max_length=64)
    text = models.TextField(_("text"))
    voice_id = models.CharField(_("voice"), max_length=100)
    language = models.CharField(_("language"), max_length=8)
    speed = models.FloatField(_("speed"))
    engine = models.CharField(_("engine"), max_length=200)
    audio = models.FileField(_("audio"), upload_to=clip_path, max_length=300)
    duration = models.FloatField(_("duration (s)"))
    sample_rate = models.PositiveIntegerField(_("sample rate"))
    visemes = models.JSONField(_("viseme timeline"), default=list)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("speech clip")
        verbose_name_plural = _("speech clips")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["owner", "cache_key"], name="tts_clip_unique_key_per_owner")]
        indexes = [models.Index(fields=["owner", "created_at"], name="tts_clip_owner_created")]

    def __str__(self) -> str:
        return f"{self.voice_id}: {self.text[:40]}"
