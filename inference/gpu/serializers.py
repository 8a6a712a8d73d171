"""Shapes of the system API (seed 004 section 5.8), one source of truth for schema and output."""
from __future__ import annotations

from rest_framework import serializers

from .conf import MODE_NAMES


class ModeRequestSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=MODE_NAMES)
    host = serializers.RegexField(r"^[A-Za-z0-9._-]{1,64}$", required=False,
                                  help_text="GPU host (GPU_HOST); default: the best host serving the mode.")


class ModeSwitchSerializer(serializers.Serializer):
    host = serializers.CharField()
    previous_mode = serializers.CharField(allow_null=True)
    current_mode = serializers.CharField(allow_null=True)
    switch_time_ms = serializers.FloatField()


class VramHostSerializer(serializers.Serializer):
    host = serializers.CharField()
    gpu_index = serializers.IntegerField()
    alive = serializers.BooleanField(help_text="The worker's heartbeat is recent.")
    heartbeat_age_s = serializers.FloatField()
    mode = serializers.CharField(allow_null=True)
    switching_enabled = serializers.BooleanField()
    used_mb = serializers.IntegerField(allow_null=True, help_text="Null when NVML could not be read.")
    total_mb = serializers.IntegerField(allow_null=True)
    usage_percent = serializers.FloatField(allow_null=True)
    active_services = serializers.ListField(child=serializers.CharField())
    services = serializers.DictField(child=serializers.CharField(), help_text="healthy / unhealthy / sleeping / unknown")
    pending = serializers.IntegerField(help_text="Mode requests waiting in this host's queue.")


class VramSerializer(serializers.Serializer):
    hosts = VramHostSerializer(many=True)
