"""REST API of avatar generation under /api/generate/ (the seed's generate API plus job control).

POST /api/generate/                      multipart image (+ options JSON) -> 202 {job_id, status_url, ...}
GET  /api/generate/                      the user's jobs (paginated)
GET  /api/generate/status/<job_id>       the seed's status shape (+ stages, previews, timings)
GET/DELETE /api/generate/<job_id>        the status / delete a finished job
POST /api/generate/<job_id>/cancel       stop a queued or running job
POST /api/generate/<job_id>/retry        resume a failed or cancelled job from the failed stage
POST /api/generate/<job_id>/recrop       a new job on the same photo with {"crop": {x, y, size}}
GET  /api/generate/<job_id>/result.vrm   the generated VRM
GET  /api/generate/<job_id>/photo        the cleaned photo (for the crop adjuster)
GET  /api/generate/<job_id>/stages/<stage>/preview
GET  /api/generate/options               presets and choices for clients
Views validate, call one service or selector, and serialize. Other users' jobs answer 404.
"""
from __future__ import annotations

import mimetypes
import os
from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from avatarforge.errors import AppError, NotFound, PayloadTooLarge
from avatarforge.json_body import JsonBodyParser
from avatarforge.pagination import BoundedLimitOffsetPagination

from . import selectors, services
from .conf import setting
from .serializers import (
    AVATAR_PERMISSION_CHOICES,
    BUILD_CHOICES,
    COLOR_PARTS,
    COMMERCIAL_CHOICES,
    CREDIT_CHOICES,
    HEADS_DEFAULT,
    HEADS_MAX,
    HEADS_MIN,
    MODIFICATION_CHOICES,
    STYLE_CHOICES,
    ActorUsedSerializer,
    ChoicesSerializer,
    CreatedSerializer,
    CreateRequestSerializer,
    RecropSerializer,
    StatusSerializer,
    SummarySerializer,
    UseAsActorSerializer,
    actor_used_payload,
    clean_options,
    status_payload,
    summary_payload,
)
from .stages import LABELS, PIPELINE


def read_upload(upload: Any) -> bytes:
    """The uploaded bytes, refusing oversize files from their declared size before reading."""
    if upload is None:
        raise AppError(_("Choose a photo to upload (form field “image”)."), code="image_required", details={"image": ["required"]})
    limit = setting("GENERATION_MAX_UPLOAD_BYTES")
    if getattr(upload, "size", 0) > limit:
        raise PayloadTooLarge(
            _("The photo is %(size).1f MB; the limit is %(limit).0f MB. Use a smaller photo.") % {"size": upload.size / 2**20, "limit": limit / 2**20},
            code="image_too_large", details={"size": upload.size, "max_bytes": limit},
        )
    upload.seek(0)
    return upload.read(limit + 1)


def file_response(name: str, *, filename: str | None = None, attachment: bool = False, content_type: str | None = None) -> FileResponse:
    try:
        handle = default_storage.open(name, "rb")
    except (OSError, ValueError):
        raise NotFound(_("This file is no longer stored."), code="file_missing") from None
    content_type = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type, as_attachment=attachment, filename=filename or os.path.basename(name))
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class GenerateApi(APIView):
    parser_classes = [MultiPartParser, FormParser, JsonBodyParser]
    pagination_class = BoundedLimitOffsetPagination

    def get_throttles(self):
        if self.request.method == "POST":
            self.throttle_scope = "upload"
            return [UserRateThrottle(), ScopedRateThrottle()]
        return super().get_throttles()

    @extend_schema(responses=SummarySerializer(many=True), summary="List your generation jobs")
    def get(self, request: Request) -> Response:
        jobs = selectors.jobs_for(user=request.user)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response([summary_payload(j) for j in page])

    @extend_schema(
        request={"multipart/form-data": CreateRequestSerializer},
        responses={202: CreatedSerializer, 400: OpenApiResponse(description="image_* / invalid"), 403: OpenApiResponse(description="generation_jobs_per_day_exceeded / avatar_slots_exceeded"), 413: OpenApiResponse(description="image_too_large")},
        summary="Start a photo -> avatar job",
    )
    def post(self, request: Request) -> Response:
        photo = read_upload(request.FILES.get("image"))
        options = clean_options(request.data.get("options"))
        job = services.create_job(owner=request.user, photo=photo, filename=getattr(request.FILES.get("image"), "name", ""), options=options)
        body = {
            "job_id": str(job.id),
            "status": job.status,
            "status_url": selectors.status_url(job),
            "page_url": selectors.page_url(job),
            "estimated_time": selectors.estimated_seconds(user=request.user),
        }
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]})


def _status(request: Request, job_id: Any) -> dict[str, Any]:
    """A read only: jobs whose worker died are failed by the periodic sweep (tasks, Celery beat)."""
    return status_payload(selectors.job_for(user=request.user, job_id=job_id))


class StatusApi(APIView):
    @extend_schema(responses=StatusSerializer, summary="Job status (poll this or use the WebSocket)")
    def get(self, request: Request, job_id: Any) -> Response:
        return Response(_status(request, job_id))


class JobApi(APIView):
    @extend_schema(responses=StatusSerializer, summary="Job status")
    def get(self, request: Request, job_id: Any) -> Response:
        return Response(_status(request, job_id))

    @extend_schema(responses={204: None, 409: OpenApiResponse(description="job_running")}, summary="Delete a finished job and its files")
    def delete(self, request: Request, job_id: Any) -> Response:
        services.delete_job(user=request.user, job_id=job_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CancelApi(APIView):
    @extend_schema(request=None, responses={200: StatusSerializer, 409: OpenApiResponse(description="job_finished")}, summary="Cancel a job")
    def post(self, request: Request, job_id: Any) -> Response:
        services.cancel_job(user=request.user, job_id=job_id)
        return Response(status_payload(selectors.job_for(user=request.user, job_id=job_id)))


class RetryApi(APIView):
    @extend_schema(request=None, responses={202: StatusSerializer, 409: OpenApiResponse(description="job_not_retryable")}, summary="Retry from the failed stage")
    def post(self, request: Request, job_id: Any) -> Response:
        services.retry_job(user=request.user, job_id=job_id)
        return Response(status_payload(selectors.job_for(user=request.user, job_id=job_id)), status=status.HTTP_202_ACCEPTED)


class RecropApi(APIView):
    def get_throttles(self):
        self.throttle_scope = "upload"
        return [UserRateThrottle(), ScopedRateThrottle()]

    @extend_schema(request=RecropSerializer, responses={202: CreatedSerializer}, summary="New job on the same photo with your crop")
    def post(self, request: Request, job_id: Any) -> Response:
        selectors.job_for(user=request.user, job_id=job_id)  # ownership first: another's job is 404 whatever the body
        serializer = RecropSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = services.rerun_with_crop(user=request.user, job_id=job_id, crop=dict(serializer.validated_data["crop"]))
        body = {"job_id": str(job.id), "status": job.status, "status_url": selectors.status_url(job), "page_url": selectors.page_url(job),
                "estimated_time": selectors.estimated_seconds(user=request.user)}
        return Response(body, status=status.HTTP_202_ACCEPTED)


class ActorApi(APIView):
    """“Use as my avatar” in the API: POST /api/generate/<job_id>/actor."""

    @extend_schema(
        request=UseAsActorSerializer,
        responses={
            201: ActorUsedSerializer, 200: ActorUsedSerializer,
            403: OpenApiResponse(description="actor_slots_exceeded (details.actors: the actors you may switch) / avatar_use_not_permitted"),
            409: OpenApiResponse(description="avatar_not_ready"),
        },
        summary="Make the job's avatar an actor, or switch one of your actors to it",
    )
    def post(self, request: Request, job_id: Any) -> Response:
        selectors.job_for(user=request.user, job_id=job_id)  # ownership first: another's job is 404 whatever the body
        serializer = UseAsActorSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        actor, switched = services.use_as_actor(user=request.user, job_id=job_id, replace_actor_id=serializer.validated_data.get("replace_actor"))
        return Response(actor_used_payload(actor, switched), status=status.HTTP_200_OK if switched else status.HTTP_201_CREATED)


class ResultApi(APIView):
    @extend_schema(responses={(200, "model/gltf-binary"): OpenApiResponse(description="The VRM 1.0 file")}, summary="Download the generated VRM")
    def get(self, request: Request, job_id: Any) -> FileResponse:
        job = selectors.job_for(user=request.user, job_id=job_id)
        name = selectors.stage_file(job, "export", "avatar.vrm") if selectors.result_url(job) else None
        if not name:
            raise NotFound(_("This job has no finished avatar."), code="result_not_ready")
        title = (job.options or {}).get("name") or "chibi"
        safe = "".join(c for c in title if c.isalnum() or c in " -_").strip() or "chibi"
        return file_response(name, filename=f"{safe}.vrm", attachment=False, content_type="model/gltf-binary")


class PhotoApi(APIView):
    @extend_schema(responses={(200, "image/jpeg"): OpenApiResponse(description="The cleaned photo")}, summary="The cleaned photo")
    def get(self, request: Request, job_id: Any) -> FileResponse:
        job = selectors.job_for(user=request.user, job_id=job_id)
        name = selectors.stage_file(job, "ingest", "photo.jpg")
        if not name:
            raise NotFound(_("The photo has not been read yet."), code="photo_not_ready")
        return file_response(name, content_type="image/jpeg")


class StagePreviewApi(APIView):
    @extend_schema(responses={(200, "image/jpeg"): OpenApiResponse(description="Preview image")}, summary="A stage's preview image")
    def get(self, request: Request, job_id: Any, stage: str) -> FileResponse:
        job = selectors.job_for(user=request.user, job_id=job_id)
        row = selectors.stage_of(job, stage) if stage in PIPELINE else None
        if row is None or not row.preview:
            raise NotFound(_("This step has no preview."), code="preview_missing")
        return file_response(row.preview)


class OptionsApi(APIView):
    @extend_schema(responses=ChoicesSerializer, summary="Choices for the options of a job")
    def get(self, request: Request) -> Response:
        def pairs(choices: list) -> list[dict[str, str]]:
            return [{"value": value, "label": str(label)} for value, label in choices]

        return Response({
            "styles": pairs(STYLE_CHOICES),
            "builds": pairs(BUILD_CHOICES),
            "heads": {"min": HEADS_MIN, "max": HEADS_MAX, "default": HEADS_DEFAULT},
            "colors": pairs(COLOR_PARTS),
            "license": {
                "avatar_permission": pairs(AVATAR_PERMISSION_CHOICES),
                "commercial_usage": pairs(COMMERCIAL_CHOICES),
                "credit_notation": pairs(CREDIT_CHOICES),
                "modification": pairs(MODIFICATION_CHOICES),
                "flags": ["allow_redistribution", "allow_violent", "allow_sexual", "allow_political", "allow_antisocial"],
            },
            "stages": [{"name": s, "label": str(LABELS[s])} for s in PIPELINE],
            "max_upload_bytes": setting("GENERATION_MAX_UPLOAD_BYTES"),
            "max_pixels": setting("GENERATION_MAX_PIXELS"),
            "formats": ["image/jpeg", "image/png", "image/webp"],
        })
