"""REST API of chat (mounted under /api/chat/, URL names in namespace `api`).

Views validate, call one service or selector, serialize. Streaming replies go through the
WebSocket (`links.websocket` of a conversation); POST .../messages answers in one piece and
refuses with 429 + Retry-After when the model has no free slot (it never waits in line).
"""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from avatarforge.errors import AppError
from avatarforge.pagination import BoundedLimitOffsetPagination
from inference import llm

from . import events, rate_limits, selectors, services, turns
from .serializers import (
    ConversationCreateSerializer,
    ConversationSerializer,
    ConversationSummarySerializer,
    ConversationUpdateSerializer,
    MessageSerializer,
    ModelSerializer,
    ReplySerializer,
    SendMessageSerializer,
)


class ChatSendThrottle(BaseThrottle):
    """POST .../messages takes from the user's chat send budget, the socket's too (chat.rate_limits)."""

    def allow_request(self, request: Request, view: Any) -> bool:
        self._wait = rate_limits.take_chat_send(user_id=request.user.pk)
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait


class ModelListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Configured language models", responses={200: ModelSerializer(many=True)})
    def get(self, request: Request) -> Response:
        models = llm.list_models()
        default = models[0].name
        return Response({"default": default, "models": [{**m.public(), "default": m.name == default} for m in models]})


class EmotionTableApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Emotion -> avatar parameters (expression weights 0–1, head offsets in degrees, transition seconds)",
                   responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response({"emotions": selectors.emotion_table()})


class ConversationListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Your conversations, most recent first", responses={200: ConversationSerializer(many=True)})
    def get(self, request: Request) -> Response:
        paginator = BoundedLimitOffsetPagination()
        page = paginator.paginate_queryset(selectors.conversations_for(user=request.user), request, view=self)
        return paginator.get_paginated_response(ConversationSerializer(page, many=True).data)

    @extend_schema(summary="Start a conversation with a character", request=ConversationCreateSerializer,
                   responses={201: ConversationSerializer})
    def post(self, request: Request) -> Response:
        data = _valid(ConversationCreateSerializer, request.data)
        conversation = services.create_conversation(
            user=request.user, character_id=data["character"], title=data["title"], model_name=data["model"],
            user_name=data["user_name"], scenario=data.get("scenario"),
        )
        return Response(ConversationSerializer(conversation).data, status=status.HTTP_201_CREATED)


class ConversationDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="One of your conversations", responses={200: ConversationSerializer})
    def get(self, request: Request, conversation_id: str) -> Response:
        return Response(ConversationSerializer(selectors.get_conversation(user=request.user, conversation_id=conversation_id)).data)

    @extend_schema(summary="Rename, change model, your name or scenario", request=ConversationUpdateSerializer,
                   responses={200: ConversationSerializer})
    def patch(self, request: Request, conversation_id: str) -> Response:
        data = _valid(ConversationUpdateSerializer, request.data)
        conversation = services.update_conversation(
            user=request.user, conversation_id=conversation_id, title=data.get("title"), model_name=data.get("model"),
            user_name=data.get("user_name"), scenario=data.get("scenario"),
        )
        return Response(ConversationSerializer(conversation).data)

    @extend_schema(summary="Delete a conversation with all its messages and summaries", responses={204: None})
    def delete(self, request: Request, conversation_id: str) -> Response:
        services.delete_conversation(user=request.user, conversation_id=conversation_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageListApi(APIView):
    permission_classes = [IsAuthenticated]

    def get_throttles(self) -> list:
        throttles = super().get_throttles()
        if self.request.method == "POST":
            throttles.append(ChatSendThrottle())
        return throttles

    @extend_schema(
        summary="Messages of a conversation (newest page, oldest first)",
        parameters=[
            OpenApiParameter("before", int, description="Only messages with seq below this (older pages)."),
            OpenApiParameter("limit", int, description="Page size, 1–200 (default 50)."),
        ],
        responses={200: MessageSerializer(many=True)},
    )
    def get(self, request: Request, conversation_id: str) -> Response:
        conversation = selectors.get_conversation(user=request.user, conversation_id=conversation_id)
        before = _int_param(request, "before", None, 1, 2**31)
        limit = _int_param(request, "limit", 50, 1, selectors.MAX_PAGE)
        rows = selectors.messages_for(conversation=conversation, before_seq=before, limit=limit)
        has_older = bool(rows) and rows[0].seq > 1 and conversation.messages.filter(seq__lt=rows[0].seq).exists()
        return Response({"results": MessageSerializer(rows, many=True).data, "has_older": has_older})

    @extend_schema(
        summary="Send a message and get the whole reply (no streaming; 429 with Retry-After when the model is busy)",
        request=SendMessageSerializer, responses={201: ReplySerializer},
    )
    def post(self, request: Request, conversation_id: str) -> Response:
        data = _valid(SendMessageSerializer, request.data)
        user_message, reply = turns.reply_sync(
            user=request.user, conversation_id=conversation_id, text=data["text"], model_name=data["model"] or None
        )
        return Response(
            {"user_message": MessageSerializer(user_message).data, "reply": MessageSerializer(reply).data},
            status=status.HTTP_201_CREATED,
        )


class CancelReplyApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Stop the reply being written in this conversation (wherever it streams)", request=None,
                   responses={202: dict})
    def post(self, request: Request, conversation_id: str) -> Response:
        conversation = selectors.get_conversation(user=request.user, conversation_id=conversation_id)
        busy = selectors.in_flight(conversation_id=conversation.pk).exists()
        if busy:
            events.request_cancel_sync(conversation.pk, origin="api")
        return Response({"cancelling": busy}, status=status.HTTP_202_ACCEPTED)


class SummaryListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="What the character remembers of older messages (hierarchical summaries)",
                   responses={200: ConversationSummarySerializer(many=True)})
    def get(self, request: Request, conversation_id: str) -> Response:
        conversation = selectors.get_conversation(user=request.user, conversation_id=conversation_id)
        return Response({"results": ConversationSummarySerializer(selectors.summaries_for(conversation=conversation), many=True).data})


def _valid(serializer_class: type, data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _int_param(request: Request, name: str, default: int | None, minimum: int, maximum: int) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise AppError(f"{name} must be a whole number.", code="invalid", details={name: ["invalid"]}) from None
    return max(minimum, min(maximum, value))
