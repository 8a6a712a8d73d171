"""Documented shapes of the style transfer API (one source of truth: these also produce the payloads)."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..models import JOB_STATUS_VALUES
from .portrait import PORTRAIT_PRESETS
from .selectors import StyleStatusView


class TransformRequestSerializer(serializers.Serializer):
    """Only documents the multipart form: the view reads the fields itself so that a missing image,
    a bad preset and a bad strength each get their own error code."""

    image = serializers.FileField(help_text="A JPEG, PNG or WebP photo.")
    style_preset = serializers.ChoiceField(choices=list(PORTRAIT_PRESETS), help_text="chibi | anime | cartoon")
    strength = serializers.FloatField(min_value=0.0, max_value=1.0, required=False, default=0.8,
                                      help_text="0.0: the read colours only, flat; 1.0: the full stylization. Default 0.8.")


class TransformCreatedSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    status = serializers.CharField()
    status_url = serializers.CharField()
    estimated_time = serializers.IntegerField(help_text="Seconds, a rough estimate.")


class StyleErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.JSONField(allow_null=True)


class StyleStatusSerializer(serializers.Serializer):
    """The seed's status (job_id, status, progress, current_step, result_url, error) and more.
    Give it a StyleJob: it reads it through selectors.StyleStatusView."""

    job_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=JOB_STATUS_VALUES)
    progress = serializers.IntegerField(min_value=0, max_value=100)
    current_step = serializers.CharField()
    step = serializers.ChoiceField(choices=["read", "draw", "save"], allow_null=True)
    style_preset = serializers.ChoiceField(choices=list(PORTRAIT_PRESETS))
    strength = serializers.FloatField(min_value=0.0, max_value=1.0)
    result_url = serializers.CharField(allow_null=True, help_text="The PNG portrait, served to the job's owner only.")
    error = StyleErrorSerializer(allow_null=True)
    face_found_by = serializers.ChoiceField(choices=["landmarker", "haar", "fallback"], allow_null=True)
    can_cancel = serializers.BooleanField()
    can_retry = serializers.BooleanField()
    retries = serializers.IntegerField(min_value=0)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    status_url = serializers.CharField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return super().to_representation(StyleStatusView(instance))


def style_status_payload(job: Any) -> dict[str, Any]:
    return dict(StyleStatusSerializer(job).data)
