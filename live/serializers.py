"""Shapes of the live-mode API. Each serializer that documents a payload also produces it."""
from __future__ import annotations

from rest_framework import serializers

from .models import LiveSession, Platform, ViewerMemory
from .services import MAX_SAY_LENGTH
from .settings_schema import effective_settings


class LiveSessionSerializer(serializers.ModelSerializer):
    character_name = serializers.CharField(source="character.name", read_only=True)
    effective_settings = serializers.SerializerMethodField()
    overlay_path = serializers.SerializerMethodField()

    class Meta:
        model = LiveSession
        fields = ["id", "title", "platform", "character", "character_name", "status", "status_detail", "ai_paused",
                  "settings", "effective_settings", "hide_streamer_chat", "overlay_key", "overlay_path",
                  "created_at", "started_at", "stopped_at"]
        read_only_fields = fields

    def get_effective_settings(self, obj: LiveSession) -> dict:
        return effective_settings(obj.settings)

    def get_overlay_path(self, obj: LiveSession) -> str:
        return f"/live/overlay/{obj.overlay_key}/"


class LiveSessionCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=100)
    character = serializers.UUIDField()
    platform = serializers.ChoiceField(choices=Platform.choices, default=Platform.TEST)
    settings = serializers.JSONField(required=False, default=dict)


class LiveSessionUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=100, required=False)
    character = serializers.UUIDField(required=False)
    settings = serializers.JSONField(required=False)
    hide_streamer_chat = serializers.BooleanField(required=False)


class SaySerializer(serializers.Serializer):
    text = serializers.CharField(max_length=MAX_SAY_LENGTH)


class TestChatSerializer(serializers.Serializer):
    nickname = serializers.CharField(max_length=40)
    text = serializers.CharField(max_length=500)
    donation = serializers.IntegerField(min_value=0, max_value=10_000_000, default=0)


class ViewerMemorySerializer(serializers.ModelSerializer):
    class Meta:
        model = ViewerMemory
        fields = ["id", "platform", "viewer_id", "nickname", "recent", "message_count", "donated_total",
                  "first_seen", "last_seen"]
        read_only_fields = fields


class OverlayStateSerializer(serializers.Serializer):
    """Seed 003's `/api/state`: what an overlay needs to draw itself."""

    session = serializers.UUIDField(source="pk")
    status = serializers.CharField()
    hide_streamer_chat = serializers.BooleanField()
    character_name = serializers.CharField(source="character.name")
