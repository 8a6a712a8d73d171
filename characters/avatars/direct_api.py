"""REST API of direct-to-bucket avatar uploads (S3 storage only):

    POST /api/avatars/uploads                      {filename, size} -> 201 upload ticket
    (client) POST <url> with <fields> and the file  (multipart, `file` last) -> the bucket
    POST /api/avatars/uploads/<id>/complete        {name?, on_conflict?, ...} -> 201 avatar

With local storage both answer 409 `direct_upload_unavailable`: upload with POST /api/avatars.
"""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from .direct_uploads import claim_avatar_upload, finish_avatar_upload, start_avatar_upload
from .serializers import AvatarDetailSerializer

ERROR = OpenApiResponse(description="Error {code, message, details}")


class DirectUploadRequestSerializer(serializers.Serializer):
    filename = serializers.CharField(max_length=255, help_text=_("The file's name; must end in .vrm or .glb."))
    size = serializers.IntegerField(min_value=0, help_text=_("The file's size in bytes."))


class DirectUploadTicketSerializer(serializers.Serializer):
    id = serializers.CharField(help_text=_("Upload id for the complete call (opaque; valid for your account only)."))
    method = serializers.ChoiceField(choices=["POST"], help_text=_("HTTP method to send the file to `url` with."))
    url = serializers.URLField(help_text=_("The bucket's upload URL."))
    fields = serializers.DictField(
        child=serializers.CharField(),
        help_text=_("Form fields to send first, in a multipart/form-data body whose last field is `file`."),
    )
    expires_in = serializers.IntegerField(help_text=_("Seconds the upload URL stays valid."))
    max_bytes = serializers.IntegerField(help_text=_("The largest file the bucket accepts for this ticket."))


class DirectUploadCompleteSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=128)
    on_conflict = serializers.ChoiceField(choices=["overwrite", "keep_both"], required=False, allow_blank=True)
    owner_is_author = serializers.BooleanField(required=False, default=False)
    owner_has_license = serializers.BooleanField(required=False, default=False)


class _UploadThrottled(APIView):
    throttle_scope = "upload"

    def get_throttles(self) -> list[Any]:
        return [*super().get_throttles(), ScopedRateThrottle()]


class AvatarDirectUploadApi(_UploadThrottled):
    @extend_schema(
        request=DirectUploadRequestSerializer,
        responses={201: DirectUploadTicketSerializer, 400: ERROR, 401: ERROR, 409: ERROR, 413: ERROR, 429: ERROR},
        description=(
            "Start an upload straight to the bucket (S3 storage only; otherwise 409 direct_upload_unavailable). "
            "Send the file to `url` as multipart/form-data: every entry of `fields`, then the file as `file`. "
            "Then call complete. The bucket refuses files over `max_bytes`."
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = DirectUploadRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket = start_avatar_upload(user=request.user, **serializer.validated_data)
        out = DirectUploadTicketSerializer({
            "id": ticket.id, "method": "POST", "url": ticket.url, "fields": ticket.fields,
            "expires_in": ticket.expires_in, "max_bytes": ticket.max_bytes,
        })
        return Response(out.data, status=status.HTTP_201_CREATED)


class AvatarDirectUploadCompleteApi(_UploadThrottled):
    @extend_schema(
        request=DirectUploadCompleteSerializer,
        responses={201: AvatarDetailSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR, 413: ERROR, 429: ERROR},
        description=(
            "Finish a direct upload: the server reads the file from the bucket, validates, normalizes and "
            "encrypts it like POST /api/avatars (same errors), and deletes the uploaded plaintext object "
            "whether the file is accepted or refused. 400 direct_upload_missing when the file is not in the "
            "bucket; 404 for an unknown or another user's upload id."
        ),
    )
    def post(self, request: Request, upload_id: str) -> Response:
        claim = claim_avatar_upload(user=request.user, upload_id=upload_id)  # ownership before validation
        serializer = DirectUploadCompleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        avatar = finish_avatar_upload(
            user=request.user,
            claim=claim,
            on_conflict=data.get("on_conflict") or None,
            name=data.get("name") or None,
            owner_is_author=data["owner_is_author"],
            owner_has_license=data["owner_has_license"],
        )
        return Response(AvatarDetailSerializer(avatar, context={"request": request}).data, status=status.HTTP_201_CREATED)
