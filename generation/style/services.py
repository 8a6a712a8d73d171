"""Writes of style jobs (seed 004 section 5.7): create, cancel, retry (users) and the run (worker).

A style job is one short run of three steps (read the photo, draw the portrait, save the picture).
The worker takes a job with a fresh `run_token`; every later write checks it, so a run that a
redelivered task superseded stops quietly. Cancelling is seen at the next checkpoint; a retry runs
the whole (short) job again.
"""
from __future__ import annotations

import io
import logging
import uuid
from typing import Any

import numpy as np
from celery import current_app
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image

from accounts.models import User
from avatarforge.errors import AppError, Conflict, LimitExceeded, NotFound

from ..conf import STYLE_JOB_TASK, setting
from ..imaging import decode_photo
from ..models import JobStatus, StyleJob
from ..services import check_photo
from .portrait import PORTRAIT_PRESETS

logger = logging.getLogger(__name__)

_EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}
# The steps of a run, their labels and where each starts on the progress bar.
STEPS = ("read", "draw", "save")
STEP_LABELS = {
    "read": gettext_lazy("Reading the photo"),
    "draw": gettext_lazy("Drawing the portrait"),
    "save": gettext_lazy("Saving the picture"),
}
STEP_PROGRESS = {"read": 5, "draw": 55, "save": 90}


class StyleCancelled(Exception):
    """The user asked to cancel; raised from a checkpoint."""


class StyleSuperseded(Exception):
    """Another delivery of the task took the job over; this run stops quietly."""


class StyleTimeout(Exception):
    """The run went past GENERATION_STAGE_TIMEOUT; raised from a checkpoint."""


def enqueue(job_id: str) -> None:
    """Hand the job to the worker (Celery), by task name. Replaced in tests that run it inline."""
    current_app.send_task(STYLE_JOB_TASK, args=[job_id], queue=setting("GENERATION_QUEUE"))


def check_request(*, preset: Any, strength: Any) -> tuple[str, float]:
    """The preset and strength, or AppError 400 invalid_style_preset / invalid_strength."""
    if preset not in PORTRAIT_PRESETS:
        raise AppError(_("Choose a style: chibi, anime or cartoon."), code="invalid_style_preset",
                       details={"style_preset": list(PORTRAIT_PRESETS)})
    try:
        value = float(strength)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0.0 <= value <= 1.0:  # NaN fails too
        raise AppError(_("The strength is a number from 0.0 to 1.0."), code="invalid_strength", details={"strength": {"min": 0.0, "max": 1.0}})
    return preset, value


def create_style_job(*, owner: User, photo: bytes, preset: str, strength: float) -> StyleJob:
    """Check the photo, store it and queue the job. Raises AppError (400 image_* / invalid_*),
    PayloadTooLarge (413 image_too_large). On failure nothing is left behind."""
    preset, strength = check_request(preset=preset, strength=strength)
    image_format = check_photo(photo)
    job_id = uuid.uuid4()
    name = default_storage.save(f"style/{owner.pk}/{job_id.hex}/input{_EXTENSIONS[image_format]}", ContentFile(photo))
    try:
        with transaction.atomic():
            job = StyleJob.objects.create(id=job_id, owner=owner, preset=preset, strength=strength, input_file=name, input_bytes=len(photo))
            transaction.on_commit(lambda: _send(job.id))
    except BaseException:
        _delete([name])
        raise
    return job


def _send(job_id: Any) -> None:
    try:
        enqueue(str(job_id))
    except Exception:
        logger.exception("could not queue style job %s", job_id)
        with transaction.atomic():
            job = StyleJob.objects.select_for_update().filter(pk=job_id, status=JobStatus.QUEUED).first()
            if job is not None:
                _finish(job, JobStatus.FAILED, code="queue_unavailable",
                        message=_("The job could not be handed to a worker (the queue is not reachable). Retry in a moment."))


def _delete(names: list[str]) -> None:
    for name in names:
        if name:
            try:
                default_storage.delete(name)
            except Exception:
                logger.warning("could not delete %s", name, exc_info=True)


def _owned(user: User, job_id: Any) -> StyleJob:
    try:
        job = StyleJob.objects.select_for_update().filter(owner=user, pk=job_id).first()
    except (ValueError, TypeError):
        job = None
    if job is None:
        raise NotFound(_("No such style job."), code="not_found")
    return job


def _finish(job: StyleJob, status: str, *, code: str = "", message: str = "", details: Any = None) -> None:
    job.status = status
    job.finished_at = timezone.now()
    job.run_token = None
    if status == JobStatus.FAILED:
        job.error_code, job.error_message, job.error_details = code, message, details
    job.save()


@transaction.atomic
def cancel_style_job(*, user: User, job_id: Any) -> StyleJob:
    job = _owned(user, job_id)
    if job.is_finished:
        raise Conflict(_("This job has already finished."), code="job_finished", details={"status": job.status})
    job.cancel_requested = True
    if job.status == JobStatus.QUEUED:
        _finish(job, JobStatus.CANCELLED)
    else:
        job.save(update_fields=["cancel_requested", "updated_at"])
    return job


@transaction.atomic
def retry_style_job(*, user: User, job_id: Any) -> StyleJob:
    job = _owned(user, job_id)
    if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
        raise Conflict(_("Only a failed or cancelled job can be retried."), code="job_not_retryable", details={"status": job.status})
    if job.retries >= setting("GENERATION_MAX_RETRIES"):
        raise LimitExceeded(_("This job was already retried %(n)d times. Start a new one.") % {"n": job.retries},
                            code="retry_limit_reached", details={"retries": job.retries})
    if not job.input_file:
        raise Conflict(_("The photo of this job is no longer stored. Upload it again."), code="photo_gone")
    job.status = JobStatus.QUEUED
    job.retries += 1
    job.progress = 0
    job.step = ""
    job.cancel_requested = False
    job.error_code = job.error_message = ""
    job.error_details = None
    job.run_token = None
    job.finished_at = None
    job.save()
    transaction.on_commit(lambda: _send(job.id))
    return job


@transaction.atomic
def delete_style_job(*, user: User, job_id: Any) -> None:
    job = _owned(user, job_id)
    if not job.is_finished:
        raise Conflict(_("Cancel the job before deleting it."), code="job_running")
    purge_style_job(job)


def purge_style_job(job: StyleJob) -> None:
    """Delete a style job row and, after commit, its files (also used by the admin)."""
    names = [job.input_file, job.result_file]
    job.delete()
    transaction.on_commit(lambda: _delete(names))


# --- the worker's run ----------------------------------------------------------------------------


class StyleRun:
    """One delivery of the task working on a job: its token, checkpoints and time limit."""

    def __init__(self, job_id: str, token: uuid.UUID) -> None:
        self.job_id = job_id
        self.token = token
        self.deadline = timezone.now().timestamp() + setting("GENERATION_STAGE_TIMEOUT")

    def checkpoint(self, step: str) -> None:
        """Stop on cancel, takeover or time limit; otherwise record the step and a heartbeat."""
        if timezone.now().timestamp() > self.deadline:
            raise StyleTimeout()
        with transaction.atomic():
            job = StyleJob.objects.select_for_update().filter(pk=self.job_id).first()
            if job is None or job.run_token != self.token or job.status != JobStatus.RUNNING:
                raise StyleSuperseded()
            if job.cancel_requested:
                raise StyleCancelled()
            job.step, job.progress, job.heartbeat_at = step, STEP_PROGRESS[step], timezone.now()
            job.save(update_fields=["step", "progress", "heartbeat_at", "updated_at"])


@transaction.atomic
def begin_style_run(*, job_id: str) -> StyleRun | None:
    job = StyleJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None or job.is_finished:
        return None
    if job.cancel_requested:
        _finish(job, JobStatus.CANCELLED)
        return None
    now = timezone.now()
    job.status, job.run_token, job.heartbeat_at = JobStatus.RUNNING, uuid.uuid4(), now
    job.started_at = job.started_at or now
    job.step, job.progress = STEPS[0], STEP_PROGRESS[STEPS[0]]
    job.save()
    return StyleRun(str(job.id), job.run_token)


def _locked(run: StyleRun) -> StyleJob:
    job = StyleJob.objects.select_for_update().filter(pk=run.job_id).first()
    if job is None or job.run_token != run.token or job.status != JobStatus.RUNNING:
        raise StyleSuperseded()
    return job


def succeed_style_run(*, run: StyleRun, png: bytes, reading: dict, method: str) -> None:
    job = StyleJob.objects.only("owner_id", "result_file").get(pk=run.job_id)
    name = default_storage.save(f"style/{job.owner_id}/{uuid.UUID(run.job_id).hex}/portrait.png", ContentFile(png))
    try:
        with transaction.atomic():
            job = _locked(run)
            old = job.result_file
            job.result_file, job.reading, job.method, job.progress, job.step = name, reading, method, 100, ""
            _finish(job, JobStatus.SUCCEEDED)
            if old and old != name:
                transaction.on_commit(lambda: _delete([old]))
    except BaseException:
        _delete([name])
        raise


@transaction.atomic
def end_style_run(*, run: StyleRun, status: str, code: str = "", message: str = "", details: Any = None) -> None:
    """Fail or cancel the run's job (nothing when another run owns it now)."""
    try:
        job = _locked(run)
    except StyleSuperseded:
        return
    _finish(job, status, code=code, message=message, details=details)


def read_photo_bytes(job_id: str) -> bytes:
    job = StyleJob.objects.only("input_file").get(pk=job_id)
    with default_storage.open(job.input_file, "rb") as fh:
        return fh.read()


def decode_rgb(photo: bytes) -> np.ndarray:
    return np.asarray(decode_photo(photo, max_pixels=setting("GENERATION_MAX_PIXELS")).image)


def encode_png(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "PNG", optimize=False, compress_level=6)
    return out.getvalue()
