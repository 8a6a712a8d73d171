"""Reads of avatar generation: a user's jobs, and the job status shape shared by the REST API, the
WebSocket stream and the pages (the seed's job_id/status/progress/current_step/result_url/error,
plus stages with previews, timings and the resulting avatar)."""
from __future__ import annotations

import hashlib
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from accounts.models import User
from avatarforge.errors import Conflict, NotFound

from .conf import setting
from .messages import job_error_message
from .models import GenerationJob, JobStage, JobStatus, StageStatus
from .stages import LABELS, PIPELINE, note_text

DEFAULT_ESTIMATE_SECONDS = 15


def jobs_for(*, user: User) -> QuerySet[GenerationJob]:
    return (
        GenerationJob.objects.filter(owner=user)
        .select_related("avatar")
        .prefetch_related(Prefetch("stages", queryset=JobStage.objects.order_by("position")))
        .order_by("-created_at")
    )


def job_for(*, user: User, job_id: Any) -> GenerationJob:
    """The user's job or NotFound (404 not_found), also for other users' jobs: no existence leak."""
    try:
        job = jobs_for(user=user).filter(pk=job_id).first()
    except (ValueError, TypeError):
        job = None
    if job is None:
        raise NotFound(_("No such generation job."), code="not_found")
    return job


def stage_of(job: GenerationJob, name: str) -> JobStage | None:
    return next((s for s in job.stages.all() if s.name == name), None)


def _version(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:10]


def preview_url(job: GenerationJob, stage: JobStage) -> str | None:
    if not stage.preview:
        return None
    url = reverse("api:generate-stage-preview", kwargs={"job_id": job.id, "stage": stage.name})
    return f"{url}?v={_version(stage.preview)}"


def current_step(job: GenerationJob) -> str:
    if job.status == JobStatus.QUEUED:
        return _("Waiting for a worker")
    if job.status == JobStatus.RUNNING:
        if job.cancel_requested:
            return _("Cancelling…")
        return str(LABELS.get(job.stage, job.stage))
    if job.status == JobStatus.SUCCEEDED:
        return _("Done")
    if job.status == JobStatus.CANCELLED:
        return _("Cancelled")
    return _("Failed at “%(step)s”") % {"step": LABELS.get(job.stage, job.stage)} if job.stage else _("Failed")


def result_url(job: GenerationJob) -> str | None:
    export = stage_of(job, "export")
    if job.status != JobStatus.SUCCEEDED or export is None or not export.files.get("avatar.vrm"):
        return None
    return reverse("api:generate-result", kwargs={"job_id": job.id})


def _avatar(job: GenerationJob) -> dict[str, Any] | None:
    avatar = job.avatar
    if avatar is None:
        return None
    try:
        page = reverse("avatar_detail", kwargs={"avatar_id": avatar.id})
    except NoReverseMatch:
        page = reverse("avatar_list")
    return {
        "id": str(avatar.id),
        "name": avatar.name,
        "url": page,
        "api_url": reverse("api:avatar-detail", kwargs={"avatar_id": avatar.id}),
    }


def _error(job: GenerationJob) -> dict[str, Any]:
    message = job_error_message(job.error_code, stage=job.stage, details=job.error_details, fallback=job.error_message)
    return {"code": job.error_code, "message": message, "details": job.error_details}


def status_url(job: GenerationJob) -> str:
    return reverse("api:generate-status", kwargs={"job_id": job.id})


def page_url(job: GenerationJob) -> str:
    return reverse("generate_job", kwargs={"job_id": job.id})


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


class JobStatusView:
    """A job as its status shows it: one attribute per field of serializers.StatusSerializer, which
    alone decides the payload's shape (REST, WebSocket and pages all serialize through it)."""

    def __init__(self, job: GenerationJob) -> None:
        self.job = job
        stages = list(job.stages.all())
        self._stages = stages
        self._by_name = {s.name: s for s in stages}
        detect = self._by_name.get("detect")
        self._detect_data = detect.data if detect and detect.status == StageStatus.DONE else {}
        self.job_id = job.id
        self.status = job.status
        self.progress = job.progress
        self.current_step = current_step(job)
        self.stage = job.stage or None
        self.result_url = result_url(job)
        self.error = _error(job) if job.status == JobStatus.FAILED else None
        self.notes = [note_text(s.note) for s in stages if s.note]
        self.timings = {s.name: s.duration_ms for s in stages if s.duration_ms is not None and s.status == StageStatus.DONE}
        self.compute_ms = sum(self.timings.values())
        self.duration_ms = job.duration_ms
        self.avatar = _avatar(job)
        self.options = job.options
        self.can_cancel = not job.is_finished
        self.can_retry = job.status in (JobStatus.FAILED, JobStatus.CANCELLED) and job.retries < setting("GENERATION_MAX_RETRIES")
        self.retries = job.retries
        # Strings as stored (isoformat), which the serializer's DateTimeFields pass through.
        self.created_at = _iso(job.created_at)
        self.started_at = _iso(job.started_at)
        self.finished_at = _iso(job.finished_at)
        self.status_url = status_url(job)
        self.page_url = page_url(job)
        self.ws_path = f"/ws/generate/{job.id}/"

    @property
    def stages(self) -> list[dict[str, Any]]:
        job = self.job
        return [
            {
                "name": s.name,
                "label": str(LABELS.get(s.name, s.name)),
                "status": s.status,
                "duration_ms": s.duration_ms if s.status == StageStatus.DONE else None,
                "preview_url": preview_url(job, s) if s.status == StageStatus.DONE else None,
                "note": note_text(s.note),
            }
            for s in sorted(self._stages, key=lambda s: PIPELINE.index(s.name) if s.name in PIPELINE else 99)
        ]

    @property
    def thumbnail_url(self) -> str | None:
        export = self._by_name.get("export")
        return preview_url(self.job, export) if export and export.status == StageStatus.DONE else None

    @property
    def face(self) -> dict[str, Any]:
        data = self._detect_data
        photo_size, crop = data.get("photo_size"), data.get("crop")
        return {
            "method": data.get("method"),
            "crop": {
                "x": round(crop["cx"] / photo_size[0], 4), "y": round(crop["cy"] / photo_size[1], 4),
                "size": round(crop["size"] / min(photo_size), 4),
            } if crop and photo_size else None,
            "photo_url": reverse("api:generate-photo", kwargs={"job_id": self.job.id}) if data else None,
        }


def summary_fields(job: GenerationJob) -> dict[str, Any]:
    """The values of one row of the job list; serializers.SummarySerializer decides what is sent."""
    export = stage_of(job, "export")
    return {
        "job_id": str(job.id),
        "status": job.status,
        "progress": job.progress,
        "current_step": current_step(job),
        "name": (job.options or {}).get("name") or "",
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "duration_ms": job.duration_ms,
        "thumbnail_url": preview_url(job, export) if export and export.status == StageStatus.DONE else None,
        "result_url": result_url(job),
        "avatar": _avatar(job),
        "error": {k: v for k, v in _error(job).items() if k != "details"} if job.status == JobStatus.FAILED else None,
        "status_url": status_url(job),
        "page_url": page_url(job),
    }


def estimated_seconds(*, user: User) -> int:
    """Median wall time of the user's last successful jobs (a rough promise for the client)."""
    recent = [j.duration_ms for j in GenerationJob.objects.filter(owner=user, status=JobStatus.SUCCEEDED)
              .exclude(started_at=None).exclude(finished_at=None).order_by("-created_at")[:9]]
    recent = sorted(d for d in recent if d is not None)
    if not recent:
        return DEFAULT_ESTIMATE_SECONDS
    return max(1, round(recent[len(recent) // 2] / 1000))


def stage_file(job: GenerationJob, stage: str, name: str) -> str | None:
    row = stage_of(job, stage)
    if row is None or row.status != StageStatus.DONE:
        return None
    return row.files.get(name)


def params_of(job: GenerationJob) -> dict[str, Any]:
    """The parameters the job's avatar was built from, and what the photo said (body and palette
    stages). Conflict until the body stage has run."""
    body = stage_of(job, "body")
    if body is None or body.status != StageStatus.DONE or "params" not in (body.data or {}):
        raise Conflict(_("The avatar has not been built yet; its parameters come once it is."), code="params_not_ready",
                       details={"status": job.status})
    palette = stage_of(job, "palette")
    return {"params": body.data["params"], "reading": (palette.data or {}).get("reading", {}) if palette else {}}
