"""REST API of style transfer (seed 004 section 5.7) under /api/style/, in our conventions: the
answer is the body itself (no success/data envelope), failures are {code, message, details}, job
statuses are queued/running/succeeded/failed/cancelled, as for /api/generate/.

POST /api/style/transform                 multipart image, style_preset, strength -> 202 {job_id, status_url, ...}
GET  /api/style/status/<job_id>           the seed's status shape (+ preset, strength, control flags)
POST /api/style/<job_id>/cancel           stop a queued or running job
POST /api/style/<job_id>/retry            run a failed or cancelled job again
GET  /api/style/<job_id>/result.png       the portrait (PNG), to the job's owner only
Other users' jobs answer 404, before anything in the request is looked at.
"""
from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from avatarforge.errors import NotFound

from ..api import file_response, read_upload
from . import selectors, services
from .serializers import (
    StyleStatusSerializer,
    TransformCreatedSerializer,
    TransformRequestSerializer,
    style_status_payload,
)

ESTIMATED_SECONDS = 3
DEFAULT_STRENGTH = 0.8


class TransformApi(APIView):
    parser_classes = [MultiPartParser, FormParser]
    throttle_scope = "upload"

    def get_throttles(self):
        return [UserRateThrottle(), ScopedRateThrottle()]

    @extend_schema(
        request={"multipart/form-data": TransformRequestSerializer},
        responses={
            202: TransformCreatedSerializer,
            400: OpenApiResponse(description="image_required / image_* / invalid_style_preset / invalid_strength"),
            413: OpenApiResponse(description="image_too_large"),
        },
        summary="Start a photo -> stylized portrait job (seed 004 section 5.7)",
    )
    def post(self, request: Request) -> Response:
        strength = request.data.get("strength")
        preset, value = services.check_request(
            preset=request.data.get("style_preset"), strength=DEFAULT_STRENGTH if strength in (None, "") else strength,
        )
        photo = read_upload(request.FILES.get("image"))
        job = services.create_style_job(owner=request.user, photo=photo, preset=preset, strength=value)
        body = {"job_id": str(job.id), "status": job.status, "status_url": selectors.status_url(job), "estimated_time": ESTIMATED_SECONDS}
        return Response(TransformCreatedSerializer(body).data, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]})


class StyleStatusApi(APIView):
    @extend_schema(responses=StyleStatusSerializer, summary="Style job status")
    def get(self, request: Request, job_id: Any) -> Response:
        return Response(style_status_payload(selectors.style_job_for(user=request.user, job_id=job_id)))


class StyleJobApi(APIView):
    @extend_schema(responses={204: None, 409: OpenApiResponse(description="job_running")}, summary="Delete a finished style job and its files")
    def delete(self, request: Request, job_id: Any) -> Response:
        services.delete_style_job(user=request.user, job_id=job_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StyleCancelApi(APIView):
    @extend_schema(request=None, responses={200: StyleStatusSerializer, 409: OpenApiResponse(description="job_finished")}, summary="Cancel a style job")
    def post(self, request: Request, job_id: Any) -> Response:
        return Response(style_status_payload(services.cancel_style_job(user=request.user, job_id=job_id)))


class StyleRetryApi(APIView):
    @extend_schema(request=None, responses={202: StyleStatusSerializer, 409: OpenApiResponse(description="job_not_retryable")},
                   summary="Run a failed or cancelled style job again")
    def post(self, request: Request, job_id: Any) -> Response:
        job = services.retry_style_job(user=request.user, job_id=job_id)
        return Response(style_status_payload(job), status=status.HTTP_202_ACCEPTED)


class StyleResultApi(APIView):
    @extend_schema(responses={(200, "image/png"): OpenApiResponse(description="The stylized portrait")}, summary="The stylized portrait")
    def get(self, request: Request, job_id: Any) -> FileResponse:
        job = selectors.style_job_for(user=request.user, job_id=job_id)
        if not selectors.result_url(job):
            raise NotFound(_("This job has no finished portrait."), code="result_not_ready")
        return file_response(job.result_file, filename=f"portrait-{job.preset}.png", content_type="image/png")
