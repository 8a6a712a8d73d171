from rest_framework import serializers

from .models import ApiToken, Plan, User


class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = (
            "code", "name", "actor_slots", "avatar_slots", "max_avatar_bytes",
            "concurrent_conversations", "generation_jobs_per_day",
        )


class UsageSerializer(serializers.Serializer):
    limit = serializers.CharField()
    label = serializers.CharField()
    used = serializers.IntegerField()
    allowed = serializers.IntegerField()


class MeSerializer(serializers.ModelSerializer):
    plan = PlanSerializer(read_only=True)

    class Meta:
        model = User
        fields = ("id", "email", "display_name", "plan", "date_joined")
        read_only_fields = ("id", "email", "plan", "date_joined")


class TokenSerializer(serializers.ModelSerializer):
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = ApiToken
        fields = ("id", "name", "prefix", "created_at", "last_used_at", "revoked_at", "active")
        read_only_fields = fields


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64)


class TokenCreatedSerializer(TokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The secret; shown only in this response.")

    class Meta(TokenSerializer.Meta):
        fields = (*TokenSerializer.Meta.fields, "token")
        read_only_fields = fields
