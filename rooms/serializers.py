"""API shapes of rooms (docs/protocol.md, section 3)."""
from __future__ import annotations

from rest_framework import serializers

from .models import Room
from .selectors import participants_now


class RoomCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")


class ParticipantSerializer(serializers.Serializer):
    peer_id = serializers.CharField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=["owner", "member", "guest"])
    connected = serializers.BooleanField()


class RoomSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    ws_path = serializers.CharField(read_only=True)
    display_code = serializers.CharField(read_only=True)
    is_open = serializers.BooleanField(read_only=True)
    is_owner = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField()
    participants = serializers.SerializerMethodField()

    class Meta:
        model = Room
        fields = [
            "code", "display_code", "title", "url", "ws_path", "is_owner", "owner", "created_at", "expires_at",
            "closed_at", "is_open", "participants",
        ]  # fmt: skip
        read_only_fields = fields

    def get_url(self, room: Room) -> str:
        request = self.context.get("request")
        path = room.get_absolute_url()
        return request.build_absolute_uri(path) if request else path

    def get_is_owner(self, room: Room) -> bool:
        request = self.context.get("request")
        return bool(request and request.user.is_authenticated and request.user.pk == room.owner_id)

    def get_owner(self, room: Room) -> dict:
        return {"name": room.owner.name}

    def get_participants(self, room: Room) -> list[dict]:
        return ParticipantSerializer(participants_now(room) if room.is_open else [], many=True).data


class InviteSerializer(serializers.Serializer):
    token = serializers.CharField()
    url = serializers.CharField()
    expires_at = serializers.DateTimeField()


class RedeemSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)
    name = serializers.CharField(max_length=80, allow_blank=True)  # the service cleans and checks it


class RedeemedSerializer(serializers.Serializer):
    room = serializers.CharField()
    url = serializers.CharField()
    ws_path = serializers.CharField()
    guest = serializers.DictField()


class IceServerSerializer(serializers.Serializer):
    urls = serializers.ListField(child=serializers.CharField())
    username = serializers.CharField(required=False)
    credential = serializers.CharField(required=False)
