"""Reads of style jobs: a user's job (404 for anyone else's) and its status as the API shows it."""
from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from avatarforge.errors import NotFound

from ..models import JobStatus, StyleJob
from .services import STEP_LABELS


def style_job_for(*, user: User, job_id: Any) -> StyleJob:
    """The user's style job or NotFound (404 not_found), also for other users' jobs."""
    try:
        job = StyleJob.objects.filter(owner=user, pk=job_id).first()
    except (ValueError, TypeError):
        job = None
    if job is None:
        raise NotFound(_("No such style job."), code="not_found")
    return job


def current_step(job: StyleJob) -> str:
    if job.status == JobStatus.QUEUED:
        return _("Waiting for a worker")
    if job.status == JobStatus.RUNNING:
        return _("Cancelling…") if job.cancel_requested else str(STEP_LABELS.get(job.step, job.step))
    if job.status == JobStatus.SUCCEEDED:
        return _("Done")
    if job.status == JobStatus.CANCELLED:
        return _("Cancelled")
    return _("Failed at “%(step)s”") % {"step": STEP_LABELS.get(job.step, job.step)} if job.step else _("Failed")


def status_url(job: StyleJob) -> str:
    return reverse("api:style-status", kwargs={"job_id": job.id})


def result_url(job: StyleJob) -> str | None:
    if job.status != JobStatus.SUCCEEDED or not job.result_file:
        return None
    return reverse("api:style-result", kwargs={"job_id": job.id})


class StyleStatusView:
    """A style job as its status shows it: one attribute per field of StyleStatusSerializer."""

    def __init__(self, job: StyleJob) -> None:
        self.job_id = job.id
        self.status = job.status
        self.progress = job.progress
        self.current_step = current_step(job)
        self.step = job.step or None
        self.style_preset = job.preset
        self.strength = job.strength
        self.result_url = result_url(job)
        self.error = ({"code": job.error_code, "message": job.error_message, "details": job.error_details}
                      if job.status == JobStatus.FAILED else None)
        self.face_found_by = job.method or None
        self.can_cancel = not job.is_finished
        self.can_retry = job.status in (JobStatus.FAILED, JobStatus.CANCELLED)
        self.retries = job.retries
        self.created_at = job.created_at
        self.finished_at = job.finished_at
        self.status_url = status_url(job)
