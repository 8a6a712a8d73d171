"""POST /api/characters/<id>/call: start a call with a character. Validate, call one service, serialize."""
from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from . import services
from .serializers import CharacterCallSerializer


def call_payload(request: Request, started: services.StartedCall) -> dict:
    return CharacterCallSerializer({
        "room": started.room.code, "url": request.build_absolute_uri(started.room.get_absolute_url()),
        "ws_path": started.room.ws_path, "conversation": started.conversation_id, "max_s": settings.CHARACTER_CALL_MAX_S,
    }).data


def peer_base_url(request) -> str:
    """How the worker's peer reaches the signaling server: PRACTICE_PEER_URL (the same setting
    the practice partner uses), else the validated host the request came to."""
    return settings.PRACTICE_PEER_URL or request.build_absolute_uri("/")


class CharacterCallApi(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"  # each call makes a room, a conversation and an invite

    @extend_schema(request=None, responses={
        201: CharacterCallSerializer,
        404: OpenApiResponse(description="No such character (or another user's private one)."),
        409: OpenApiResponse(description="You are already in a call with a character (`character_call_running`)."),
        503: OpenApiResponse(description="No voice worker is free (`no_voice_worker`)."),
    })
    def post(self, request: Request, character_id: str) -> Response:
        started = services.start_character_call(user=request.user, character_id=character_id, base_url=peer_base_url(request))
        return Response(call_payload(request, started), status=status.HTTP_201_CREATED)
