"""API shapes of memories (one source of truth: these document and produce the payloads)."""
from __future__ import annotations

from rest_framework import serializers

from ..models import MAX_MEMORY_TEXT, CharacterMemory


class MemorySerializer(serializers.ModelSerializer):
    source_conversation = serializers.UUIDField(source="source_conversation_id", read_only=True, allow_null=True,
                                                help_text="The conversation the fact was learned in (deleting it forgets the fact).")

    class Meta:
        model = CharacterMemory
        fields = ["id", "text", "source_conversation", "created_at", "updated_at"]
        read_only_fields = fields


class MemoryListSerializer(serializers.Serializer):
    character = serializers.UUIDField(help_text="The character that remembers.")
    enabled = serializers.BooleanField(help_text="Whether the character remembers you across conversations.")
    count = serializers.IntegerField()
    limit = serializers.IntegerField(help_text="The most facts kept; the oldest go first.")
    results = MemorySerializer(many=True)


class MemoryUpdateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=MAX_MEMORY_TEXT, trim_whitespace=True)


class MemorySettingSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="Off deletes every memory and keeps nothing from later messages.")


class ForgetAllSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()
