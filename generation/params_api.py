"""The avatar parameters of a finished generation, for the creator and API clients.

GET /api/generate/<job_id>/params   {"params", "reading", "choices", "job_id"} from the job's body stage
PUT /api/generate/<job_id>/params   {"params": {field: value, ...}} (any subset) -> 202 a re-export
                                    job: the same photo rebuilt with those parameters; it saves a
                                    new avatar in the library (a new version, the old one stays).
POST /api/generate/<job_id>/params/preview   {"params": {...}} -> the VRM built with those changes,
                                    at once, not stored (the creator's live preview)
Ownership is checked before the body is read: another user's job is 404 whatever the body says.
"""
from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from avatarforge.json_body import JsonBodyParser

from . import selectors, services
from .serializers import CreatedSerializer, ParamsAnswerSerializer, ParamsUpdateSerializer, params_payload


class ParamsApi(APIView):
    parser_classes = [JsonBodyParser]

    def get_throttles(self):
        if self.request.method == "PUT":  # a re-export is a new job: same limits as an upload
            self.throttle_scope = "upload"
            return [UserRateThrottle(), ScopedRateThrottle()]
        return super().get_throttles()

    @extend_schema(responses={200: ParamsAnswerSerializer, 409: OpenApiResponse(description="params_not_ready")},
                   summary="The avatar parameters read from the photo (and edited)")
    def get(self, request: Request, job_id: Any) -> Response:
        job = selectors.job_for(user=request.user, job_id=job_id)
        return Response(params_payload(job, selectors.params_of(job)))

    @extend_schema(request=ParamsUpdateSerializer,
                   responses={202: CreatedSerializer, 400: OpenApiResponse(description="invalid_params"), 409: OpenApiResponse(description="params_not_ready")},
                   summary="Rebuild the avatar with changed parameters (a new job and avatar version)")
    def put(self, request: Request, job_id: Any) -> Response:
        selectors.job_for(user=request.user, job_id=job_id)  # ownership first
        serializer = ParamsUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = services.reexport_with_params(user=request.user, job_id=job_id, changes=dict(serializer.validated_data["params"]))
        body = {"job_id": str(job.id), "status": job.status, "status_url": selectors.status_url(job), "page_url": selectors.page_url(job),
                "estimated_time": selectors.estimated_seconds(user=request.user)}
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]})


class ParamsPreviewApi(APIView):
    parser_classes = [JsonBodyParser]
    throttle_scope = "generation_preview"

    def get_throttles(self):
        return [UserRateThrottle(), ScopedRateThrottle()]

    @extend_schema(request=ParamsUpdateSerializer,
                   responses={(200, "model/gltf-binary"): OpenApiResponse(description="A preview VRM (not stored)"),
                              400: OpenApiResponse(description="invalid"), 409: OpenApiResponse(description="params_not_ready")},
                   summary="Preview the avatar with changed parameters (nothing is saved)")
    def post(self, request: Request, job_id: Any) -> HttpResponse:
        job = selectors.job_for(user=request.user, job_id=job_id)  # ownership first
        serializer = ParamsUpdateSerializer(data=request.data, context={"allow_empty": True})
        serializer.is_valid(raise_exception=True)
        data = services.preview_with_params(user=request.user, job=job, changes=dict(serializer.validated_data["params"]))
        response = HttpResponse(data, content_type="model/gltf-binary")
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response
