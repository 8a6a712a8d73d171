"""The TTS API's request and answer shapes (one source each: they validate and document)."""
from __future__ import annotations

from rest_framework import serializers

from .config import LANGUAGES
from .types import VISEMES

MIN_SPEED, MAX_SPEED = 0.5, 2.0
LANGUAGE_CHOICES = [(code, code) for code in LANGUAGES]  # named TtsLanguageEnum in the schema


class TtsRequestSerializer(serializers.Serializer):
    text = serializers.CharField(trim_whitespace=True, allow_blank=False)
    voice_id = serializers.CharField(default="default", max_length=100)
    speed = serializers.FloatField(default=1.0, min_value=MIN_SPEED, max_value=MAX_SPEED)
    language = serializers.ChoiceField(choices=LANGUAGE_CHOICES, default="ko")


class VisemeSerializer(serializers.Serializer):
    start_ms = serializers.IntegerField()
    end_ms = serializers.IntegerField()
    viseme = serializers.ChoiceField(choices=[(v, v) for v in VISEMES])
    weight = serializers.FloatField()


class TtsResultSerializer(serializers.Serializer):
    file_id = serializers.UUIDField(source="id")
    audio_url = serializers.SerializerMethodField()
    duration = serializers.FloatField()
    sample_rate = serializers.IntegerField()
    voice_id = serializers.CharField()
    language = serializers.CharField()
    engine = serializers.CharField()
    cached = serializers.SerializerMethodField()
    visemes = VisemeSerializer(many=True)

    def get_audio_url(self, clip) -> str:
        from django.urls import reverse

        return reverse("api:tts-audio", kwargs={"file_id": clip.id})

    def get_cached(self, clip) -> bool:
        return bool(getattr(clip, "was_cached", False))


class VoiceSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    language = serializers.CharField()
    gender = serializers.CharField()
    engine = serializers.CharField()
    robotic = serializers.BooleanField()


class VoiceListSerializer(serializers.Serializer):
    voices = VoiceSerializer(many=True)
