"""Account API: who am I with plan usage; API tokens (list, create, revoke)."""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from . import selectors, services
from .serializers import MeSerializer, TokenCreatedSerializer, TokenCreateSerializer, TokenSerializer, UsageSerializer


class MeApi(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        data = MeSerializer(request.user).data
        data["usage"] = UsageSerializer(services.usage_for(user=request.user), many=True).data
        return Response(data)

    @extend_schema(request=MeSerializer, responses=MeSerializer)
    def patch(self, request: Request) -> Response:
        serializer = MeSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        request.user.display_name = serializer.validated_data.get("display_name", request.user.display_name)
        request.user.save(update_fields=["display_name"])
        return Response(MeSerializer(request.user).data)


class TokenListApi(APIView):
    throttle_scope = "auth"

    def get_throttles(self) -> list[Any]:
        # throttle_scope alone does nothing: ScopedRateThrottle is not a default throttle class.
        throttles = super().get_throttles()
        if self.request.method == "POST":
            throttles.append(ScopedRateThrottle())
        return throttles

    @extend_schema(responses=TokenSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(TokenSerializer(selectors.tokens_for(user=request.user), many=True).data)

    @extend_schema(request=TokenCreateSerializer, responses={201: TokenCreatedSerializer})
    def post(self, request: Request) -> Response:
        serializer = TokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, raw = services.create_api_token(user=request.user, name=serializer.validated_data["name"])
        token.token = raw
        return Response(TokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class TokenDetailApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request: Request, token_id: int) -> Response:
        services.revoke_api_token(user=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
