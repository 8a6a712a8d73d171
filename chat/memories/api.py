"""REST API of memories (mounted under /api/chat/): see, edit and delete what a character
remembers about you, and turn it on or off. Views validate, call one service, serialize; another
user's memory is 404 like a missing one."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .serializers import (
    ForgetAllSerializer,
    MemoryListSerializer,
    MemorySerializer,
    MemorySettingSerializer,
    MemoryUpdateSerializer,
)

NOT_FOUND = OpenApiResponse(description="No such character or memory (or not yours).")


def _valid(serializer_class: type, data: object) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def memory_list_payload(*, user: object, character: object) -> dict:
    rows = list(selectors.memories_for(user=user, character_id=character.pk))
    return {
        "character": character.pk, "enabled": selectors.memory_enabled(user_id=user.pk, character_id=character.pk),
        "count": len(rows), "limit": services.MAX_MEMORIES, "results": rows,
    }


class CharacterMemoriesApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="What a character remembers about you across conversations", responses={200: MemoryListSerializer, 404: NOT_FOUND})
    def get(self, request: Request, character_id: str) -> Response:
        character = selectors.character_for_memories(user=request.user, character_id=character_id)
        return Response(MemoryListSerializer(memory_list_payload(user=request.user, character=character)).data)

    @extend_schema(summary="Make a character forget everything about you", responses={200: ForgetAllSerializer, 404: NOT_FOUND})
    def delete(self, request: Request, character_id: str) -> Response:
        deleted = services.forget_all(user=request.user, character_id=character_id)
        return Response(ForgetAllSerializer({"deleted": deleted}).data)


class MemorySettingApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Whether a character remembers you across conversations", responses={200: MemorySettingSerializer, 404: NOT_FOUND})
    def get(self, request: Request, character_id: str) -> Response:
        character = selectors.character_for_memories(user=request.user, character_id=character_id)
        return Response({"enabled": selectors.memory_enabled(user_id=request.user.pk, character_id=character.pk)})

    @extend_schema(summary="Turn memory on or off for a character (off deletes every memory)", request=MemorySettingSerializer,
                   responses={200: MemorySettingSerializer, 404: NOT_FOUND})
    def put(self, request: Request, character_id: str) -> Response:
        selectors.character_for_memories(user=request.user, character_id=character_id)  # ownership before validation
        data = _valid(MemorySettingSerializer, request.data)
        enabled = services.set_memory_enabled(user=request.user, character_id=character_id, enabled=data["enabled"])
        return Response(MemorySettingSerializer({"enabled": enabled}).data)


class MemoryDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="One thing a character remembers about you", responses={200: MemorySerializer, 404: NOT_FOUND})
    def get(self, request: Request, memory_id: int) -> Response:
        return Response(MemorySerializer(selectors.get_memory(user=request.user, memory_id=memory_id)).data)

    @extend_schema(summary="Correct a memory", request=MemoryUpdateSerializer, responses={200: MemorySerializer, 404: NOT_FOUND})
    def patch(self, request: Request, memory_id: int) -> Response:
        selectors.get_memory(user=request.user, memory_id=memory_id)  # ownership before validation
        data = _valid(MemoryUpdateSerializer, request.data)
        memory = services.update_memory(user=request.user, memory_id=memory_id, text=data["text"])
        return Response(MemorySerializer(memory).data)

    @extend_schema(summary="Delete a memory", responses={204: None, 404: NOT_FOUND})
    def delete(self, request: Request, memory_id: int) -> Response:
        services.delete_memory(user=request.user, memory_id=memory_id)
        return Response(status=204)
