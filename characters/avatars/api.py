"""REST API of the avatar library: avatars (list, upload, detail, edit, delete, file, thumbnail,
resolve) and actors (CRUD). Views validate, call one service or selector, and serialize."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils.http import content_disposition_header, parse_etags
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from avatarforge.errors import AppError, Forbidden, NotFound, PayloadTooLarge
from avatarforge.pagination import BoundedLimitOffsetPagination

from ..models import Avatar
from . import actors, links, selectors, services, storage
from .crypto import DecryptionError
from .serializers import (
    ActorSerializer,
    ActorUpdateSerializer,
    ActorWriteSerializer,
    AvatarDetailSerializer,
    AvatarSerializer,
    AvatarUpdateSerializer,
    AvatarUploadSerializer,
    ResolveRequestSerializer,
    ResolveResponseSerializer,
)

logger = logging.getLogger(__name__)
ERROR = OpenApiResponse(description="Error {code, message, details}")
MULTIPART_OVERHEAD = 64 * 1024


def _visible_or_404(request: Request, avatar_id: Any) -> Avatar:
    avatar = selectors.get_visible_avatar(user=request.user, avatar_id=avatar_id)
    if avatar is None:
        raise NotFound(_("No such avatar."), code="not_found")
    return avatar


def _etag(avatar: Avatar, suffix: str = "") -> str:
    return f'"{avatar.file_hash}{suffix}"'


def _not_modified(request: Request, etag: str) -> bool:
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if not header:
        return False
    tags = parse_etags(header)
    # If-None-Match uses weak comparison: W/"x" matches "x".
    return "*" in tags or etag in tags or etag in [t.removeprefix("W/") for t in tags]


def _cache_headers(response: HttpResponseBase, etag: str) -> HttpResponseBase:
    response["ETag"] = etag
    # private: never in a shared cache; no-cache: the client keeps it but revalidates by ETag.
    response["Cache-Control"] = "private, no-cache"
    response["Vary"] = "Cookie, Authorization"
    return response


class BinaryApiView(APIView):
    """Answers any Accept header (files are not JSON); errors still render as JSON."""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        return super().perform_content_negotiation(request, force=True)


class AvatarListApi(APIView):
    parser_classes = [MultiPartParser, FormParser]
    throttle_scope = "upload"

    def get_throttles(self) -> list[Any]:
        throttles = super().get_throttles()
        if self.request.method == "POST":
            throttles.append(ScopedRateThrottle())
        return throttles

    pagination_class = BoundedLimitOffsetPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("scope", str, enum=["mine", "shared"], description="Your avatars (default) or avatars other users shared."),
            OpenApiParameter("limit", int, description="Page size (default 50)."),
            OpenApiParameter("offset", int),
        ],
        responses=AvatarSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        if request.query_params.get("scope") == "shared":
            queryset = selectors.shared_avatars_for(request.user)
        else:
            queryset = selectors.avatars_owned_by(request.user)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(AvatarSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        request={"multipart/form-data": AvatarUploadSerializer},
        responses={201: AvatarDetailSerializer, 400: ERROR, 403: ERROR, 409: ERROR, 413: ERROR},
        description=(
            "Upload a VRM 0.x / 1.0 or GLB avatar. The body streams to disk; the file is validated, "
            "its metadata normalized, and it is stored encrypted. 409 avatar_duplicate (details.existing_id) "
            "when the same file is already in your library; 409 avatar_name_conflict when an avatar with the "
            "same name and VRM version exists (send on_conflict=overwrite or keep_both)."
        ),
    )
    def post(self, request: Request) -> Response:
        # Refuse an oversized body from its Content-Length before reading it.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = request.user.plan.max_avatar_bytes
        if length > limit + MULTIPART_OVERHEAD:
            raise PayloadTooLarge(
                _("The file is larger than your plan allows (%(limit)d MB). Reduce texture sizes or polygon count and upload again.")
                % {"limit": limit // 2**20},
                code="avatar_too_large",
                details={"max_bytes": limit},
            )
        if "file" not in request.FILES:
            raise AppError(_("Choose a .vrm or .glb file to upload."), code="avatar_file_required")
        serializer = AvatarUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data["file"]
        avatar = services.create_avatar_from_file(
            owner=request.user,
            file=upload,
            filename=upload.name or "",
            on_conflict=data.get("on_conflict") or None,
            name=data.get("name") or None,
            owner_is_author=data.get("owner_is_author", False),
            owner_has_license=data.get("owner_has_license", False),
        )
        return Response(AvatarDetailSerializer(avatar, context={"request": request}).data, status=status.HTTP_201_CREATED)


class AvatarDetailApi(APIView):
    @extend_schema(responses={200: AvatarDetailSerializer, 404: ERROR})
    def get(self, request: Request, avatar_id: Any) -> Response:
        avatar = _visible_or_404(request, avatar_id)
        return Response(AvatarDetailSerializer(avatar, context={"request": request}).data)

    @extend_schema(request=AvatarUpdateSerializer, responses={200: AvatarDetailSerializer, 403: ERROR, 404: ERROR})
    def patch(self, request: Request, avatar_id: Any) -> Response:
        if _visible_or_404(request, avatar_id).owner_id != request.user.pk:  # ownership before the body
            raise Forbidden(_("Only the owner can change this avatar."), code="not_owner")
        serializer = AvatarUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        avatar = services.update_avatar(user=request.user, avatar_id=avatar_id, **serializer.validated_data)
        return Response(AvatarDetailSerializer(avatar, context={"request": request}).data)

    @extend_schema(responses={204: None, 404: ERROR, 409: OpenApiResponse(description="avatar_in_use: details.actors lists the actors")})
    def delete(self, request: Request, avatar_id: Any) -> Response:
        services.delete_avatar(user=request.user, avatar_id=avatar_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AvatarFileApi(BinaryApiView):
    permission_classes = [AllowAny]  # checked in get(): a session/token user, or a signed link

    @extend_schema(
        parameters=[
            OpenApiParameter("token", str, description="Signed download token from /api/avatars/resolve (no session needed)."),
            OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER, description='"<fileHash>" of your cached copy'),
        ],
        responses={
            (200, "model/gltf-binary"): OpenApiTypes.BINARY,
            304: OpenApiResponse(description="Your cached copy (same fileHash) is current."),
            401: ERROR, 403: ERROR, 404: ERROR,
        },
        description="The decrypted avatar file. Strong ETag = the SHA-256 fileHash; If-None-Match answers 304.",
    )
    def get(self, request: Request, avatar_id: Any) -> HttpResponseBase:
        token = request.query_params.get("token")
        if token:
            avatar = links.avatar_for_token(avatar_id=avatar_id, token=token[:512])
        else:
            if not request.user.is_authenticated:
                raise NotAuthenticated()
            avatar = _visible_or_404(request, avatar_id)
        etag = _etag(avatar)
        if _not_modified(request, etag):
            return _cache_headers(HttpResponse(status=304), etag)

        def body() -> Iterator[bytes]:
            try:
                yield from storage.open_decrypted(avatar)
            except DecryptionError:
                logger.exception("Stored avatar %s does not decrypt", avatar.pk)
                raise

        extension = ".glb" if avatar.vrm_version == "gltf" else ".vrm"
        response = StreamingHttpResponse(body(), content_type="model/gltf-binary")
        response["Content-Length"] = str(avatar.file_size)
        response["Content-Disposition"] = content_disposition_header(True, f"{avatar.name}{extension}")
        response["X-Content-Type-Options"] = "nosniff"
        return _cache_headers(response, etag)


class AvatarThumbnailApi(BinaryApiView):
    @extend_schema(responses={(200, "image/webp"): OpenApiTypes.BINARY, 304: None, 404: ERROR})
    def get(self, request: Request, avatar_id: Any) -> HttpResponseBase:
        avatar = _visible_or_404(request, avatar_id)
        etag = _etag(avatar, "-thumb")
        if _not_modified(request, etag):
            return _cache_headers(HttpResponse(status=304), etag)
        response = HttpResponse(storage.read_thumbnail(avatar), content_type="image/webp")
        response["Content-Security-Policy"] = "default-src 'none'"
        return _cache_headers(response, etag)


class AvatarResolveApi(APIView):
    @extend_schema(
        request=ResolveRequestSerializer,
        responses=ResolveResponseSerializer,
        description=(
            "Send the {id, file_hash} list of avatars you hold in a local cache. In one answer: which are current, "
            "which changed (with a short-lived download URL for each), and which are gone."
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = ResolveRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = selectors.resolve_cache(user=request.user, entries=serializer.validated_data["avatars"])
        for item in result["changed"]:
            item["url"] = request.build_absolute_uri(item["url"])
        return Response(ResolveResponseSerializer(result).data)


class ActorListApi(APIView):
    @extend_schema(responses=ActorSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(ActorSerializer(selectors.actors_for(request.user), many=True).data)

    @extend_schema(request=ActorWriteSerializer, responses={201: ActorSerializer, 400: ERROR, 403: ERROR, 404: ERROR})
    def post(self, request: Request) -> Response:
        serializer = ActorWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        actor = actors.create_actor(
            user=request.user, name=data["name"], avatar_id=data["avatar"], settings_data=data.get("settings")
        )
        return Response(ActorSerializer(actor).data, status=status.HTTP_201_CREATED)


class ActorDetailApi(APIView):
    def _get(self, request: Request, actor_id: int) -> Any:
        actor = selectors.actors_for(request.user).filter(pk=actor_id).first()
        if actor is None:
            raise NotFound(_("No such actor."), code="not_found")
        return actor

    @extend_schema(responses={200: ActorSerializer, 404: ERROR})
    def get(self, request: Request, actor_id: int) -> Response:
        return Response(ActorSerializer(self._get(request, actor_id)).data)

    @extend_schema(request=ActorUpdateSerializer, responses={200: ActorSerializer, 400: ERROR, 403: ERROR, 404: ERROR})
    def patch(self, request: Request, actor_id: int) -> Response:
        self._get(request, actor_id)  # ownership before the body
        serializer = ActorUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        actor = actors.update_actor(
            user=request.user,
            actor_id=actor_id,
            name=data.get("name"),
            avatar_id=data.get("avatar"),
            settings_data=data.get("settings"),
        )
        return Response(ActorSerializer(actor).data)

    @extend_schema(responses={204: None, 404: ERROR})
    def delete(self, request: Request, actor_id: int) -> Response:
        actors.delete_actor(user=request.user, actor_id=actor_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
