"""API shapes of conversations and messages. Input limits live here and in the services; no
business logic."""
from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import MAX_TITLE, MAX_USER_TEXT, Conversation, Message, Summary


class ScenarioSerializer(serializers.Serializer):
    counterpart = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    situation = serializers.CharField(max_length=4000, allow_blank=True, required=False, default="")
    background = serializers.CharField(max_length=8000, allow_blank=True, required=False, default="")


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = [
            "id", "seq", "role", "text", "emotion", "status", "token_count", "prompt_tokens", "completion_tokens",
            "model_name", "error_code", "queue_ms", "ttft_ms", "duration_ms", "created_at", "completed_at",
        ]
        read_only_fields = fields


class CharacterBriefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    avatar_ref = serializers.CharField(allow_null=True)
    language = serializers.CharField()


class ConversationSerializer(serializers.ModelSerializer):
    # Plain text here: the same choices as Message.emotion would give the schema two enum names.
    last_emotion = serializers.CharField(read_only=True, help_text="happy, sad, angry, surprised, neutral or excited.")
    character = serializers.SerializerMethodField()
    scenario = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = [
            "id", "title", "character", "model_name", "user_name", "scenario", "last_emotion", "message_count",
            "created_at", "updated_at", "last_message_at", "links",
        ]
        read_only_fields = fields

    @extend_schema_field(CharacterBriefSerializer)
    def get_character(self, obj: Conversation) -> dict[str, Any]:
        c = obj.character
        return {"id": str(c.pk), "name": c.name, "avatar_ref": c.avatar_ref, "language": c.language}

    @extend_schema_field(ScenarioSerializer)
    def get_scenario(self, obj: Conversation) -> dict[str, str]:
        return obj.scenario()

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_links(self, obj: Conversation) -> dict[str, str]:
        return {
            "page": reverse("chat_conversation", args=[obj.pk]),
            "messages": reverse("api:chat-messages", args=[obj.pk]),
            "websocket": f"/ws/chat/{obj.pk}/",
        }


class ConversationCreateSerializer(serializers.Serializer):
    character = serializers.UUIDField(help_text="Id of a character you may see (yours, a preset, public or unlisted).")
    title = serializers.CharField(max_length=MAX_TITLE, allow_blank=True, required=False, default="")
    model = serializers.CharField(max_length=100, allow_blank=True, required=False, default="",
                                  help_text="A name from /api/chat/models; empty for the default.")
    user_name = serializers.CharField(max_length=100, allow_blank=True, required=False, default="",
                                      help_text="How the character calls you ({{user}}); default your display name.")
    scenario = ScenarioSerializer(required=False)


class ConversationUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=MAX_TITLE, required=False)
    model = serializers.CharField(max_length=100, allow_blank=True, required=False)
    user_name = serializers.CharField(max_length=100, allow_blank=True, required=False)
    scenario = ScenarioSerializer(required=False)


class SendMessageSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=MAX_USER_TEXT, trim_whitespace=True)
    model = serializers.CharField(max_length=100, allow_blank=True, required=False, default="")


class ReplySerializer(serializers.Serializer):
    user_message = MessageSerializer()
    reply = MessageSerializer()


class ConversationSummarySerializer(serializers.ModelSerializer):
    active = serializers.SerializerMethodField()

    class Meta:
        model = Summary
        fields = ["id", "level", "start_seq", "end_seq", "text", "token_count", "active", "created_at"]
        read_only_fields = fields

    def get_active(self, obj: Summary) -> bool:
        return obj.parent_id is None


class ModelSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    context_length = serializers.IntegerField()
    max_tokens = serializers.IntegerField()
    temperature = serializers.FloatField()
    embedded = serializers.BooleanField()
    default = serializers.BooleanField()


class ModelListSerializer(serializers.Serializer):
    """GET /api/chat/models: the configured models and which one new conversations use."""

    default = serializers.CharField()
    models = ModelSerializer(many=True)


class MessagePageSerializer(serializers.Serializer):
    """GET .../messages: one page, oldest first, and whether older messages exist (page with ?before=)."""

    results = MessageSerializer(many=True)
    has_older = serializers.BooleanField()


class SummaryListSerializer(serializers.Serializer):
    results = ConversationSummarySerializer(many=True)
