"""Writes of avatar generation: create, cancel, retry and delete jobs (users), and the run lifecycle
(the worker): begin a run, start/complete/fail stages, heartbeats, success, and the stale-job sweep.

Every change commits first and is announced after the commit (transaction.on_commit) to the job's
channel-layer group, so a browser never hears about a state the database does not have yet.
Worker-side writes carry the run's token: a run that another delivery superseded stops quietly.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from asgiref.sync import async_to_sync
from celery import current_app
from channels.layers import get_channel_layer
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import lock_user_for_limit
from accounts.usage import counter
from avatarforge.errors import AppError, Conflict, LimitExceeded, NotFound, PayloadTooLarge

from .conf import RUN_JOB_TASK, setting
from .imaging import decode_photo
from .messages import job_error_message
from .models import FINISHED, GenerationJob, JobStage, JobStatus, StageStatus
from .stages import PIPELINE, progress_at
from .stages.base import JobCancelled, RunSuperseded, StageOutput

logger = logging.getLogger(__name__)

DAILY_LIMIT = "generation_jobs_per_day"
STALE_GRACE_SECONDS = 30
_EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}


def group_name(job_id: Any) -> str:
    return f"generation-job-{uuid.UUID(str(job_id)).hex}"


def _announce(job_id: Any) -> None:
    """After commit: tell the job's WebSocket group that it changed (they re-read it)."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(group_name(job_id), {"type": "job.changed", "job_id": str(job_id)})
        except Exception:  # the job must not fail because nobody can be told about it
            logger.warning("could not announce generation job %s", job_id, exc_info=True)

    transaction.on_commit(send)


def enqueue(job_id: str) -> None:
    """Hand the job to the worker (Celery), by task name. Replaced in tests that run the pipeline inline.

    GENERATION_QUEUE=gpu sends jobs to GPU hosts while one serves gen3d; with none up, the CPU
    pipeline (queue default) runs them instead of leaving them queued.
    """
    from inference.gpu.client import generation_queue

    current_app.send_task(RUN_JOB_TASK, args=[job_id], queue=generation_queue(setting("GENERATION_QUEUE")))


def _enqueue_after_commit(job_id: Any) -> None:
    def send() -> None:
        try:
            enqueue(str(job_id))
        except Exception:
            logger.exception("could not queue generation job %s", job_id)
            _mark_unqueued(job_id)

    transaction.on_commit(send)


@transaction.atomic
def _mark_unqueued(job_id: Any) -> None:
    job = GenerationJob.objects.select_for_update().filter(pk=job_id, status=JobStatus.QUEUED).first()
    if job is None:
        return
    _finish(job, JobStatus.FAILED, code="queue_unavailable", message=job_error_message("queue_unavailable", stage=""))


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:
            logger.warning("could not delete %s", name, exc_info=True)


def _delete_after_commit(names: list[str]) -> None:
    names = [n for n in names if n]
    if names:
        transaction.on_commit(lambda: _delete_files(names))


def job_files(job: GenerationJob) -> list[str]:
    names = [job.input_file] if job.input_file else []
    for stage in job.stages.all():
        names += list(stage.files.values())
        if stage.preview:
            names.append(stage.preview)
    return names


# --- users ------------------------------------------------------------------------------------


def check_photo(data: bytes) -> str:
    """Decode the photo completely (cheaply, at reduced scale) and return its format.

    Done at upload so a bad file is refused at once with its reason, before any job or file exists.
    """
    limit = setting("GENERATION_MAX_UPLOAD_BYTES")
    if len(data) > limit:
        raise PayloadTooLarge(
            _("The photo is %(size).1f MB; the limit is %(limit).0f MB. Use a smaller photo.") % {"size": len(data) / 2**20, "limit": limit / 2**20},
            code="image_too_large", details={"size": len(data), "max_bytes": limit},
        )
    if not data:
        raise AppError(_("The file is empty. Choose the photo again."), code="image_empty")
    return decode_photo(data, max_pixels=setting("GENERATION_MAX_PIXELS")).format  # ImageRejected is an AppError


def _check_avatar_room(owner: User) -> None:
    """Refuse early when the result could not be added to a full library (the register step would fail)."""
    try:
        used = counter("avatar_slots").count(owner.pk)
    except LookupError:
        return
    if used >= owner.plan.avatar_slots:
        raise LimitExceeded(
            _("Your avatar library is full (%(used)d of %(allowed)d), so a new avatar could not be added. Delete one first.")
            % {"used": used, "allowed": owner.plan.avatar_slots},
            code="avatar_slots_exceeded", details={"limit": "avatar_slots", "allowed": owner.plan.avatar_slots, "used": used},
        )


def create_job(*, owner: User, photo: bytes, filename: str, options: dict[str, Any], source_job: GenerationJob | None = None) -> GenerationJob:
    """Check the photo, take one of today's jobs from the plan, store the photo and queue the job.

    Raises AppError (400 image_*), PayloadTooLarge (413 image_too_large), LimitExceeded (403
    generation_jobs_per_day_exceeded, avatar_slots_exceeded). On failure nothing is left behind.
    """
    image_format = check_photo(photo)
    _check_avatar_room(owner)
    job_id = uuid.uuid4()
    name = default_storage.save(f"generation/{owner.pk}/{job_id.hex}/input{_EXTENSIONS[image_format]}", ContentFile(photo))
    try:
        with transaction.atomic():
            lock_user_for_limit(user_id=owner.pk, limit=DAILY_LIMIT)
            job = GenerationJob.objects.create(
                id=job_id, owner=owner, options=options, input_file=name,
                input_name=(filename or "")[-255:], input_bytes=len(photo), source_job=source_job,
            )
            JobStage.objects.bulk_create([JobStage(job=job, name=stage, position=i) for i, stage in enumerate(PIPELINE)])
            _enqueue_after_commit(job.id)
            _announce(job.id)
    except BaseException:
        _delete_files([name])
        raise
    return job


def _owned(user: User, job_id: Any, *, lock: bool = False) -> GenerationJob:
    qs = GenerationJob.objects.filter(owner=user)
    if lock:
        qs = qs.select_for_update()
    try:
        job = qs.filter(pk=job_id).first()
    except (ValueError, TypeError):
        job = None
    if job is None:
        raise NotFound(_("No such generation job."), code="not_found")
    return job


def rerun_with_crop(*, user: User, job_id: Any, crop: dict[str, float], options: dict[str, Any] | None = None) -> GenerationJob:
    """A new job on the same (already cleaned) photo with the user's crop; counts as a new job."""
    source = _owned(user, job_id)
    ingest = source.stages.filter(name="ingest", status=StageStatus.DONE).first()
    stored = (ingest.files.get("photo.jpg") if ingest else None) or source.input_file
    if not stored:
        raise Conflict(_("The photo of this job is no longer stored. Upload it again."), code="photo_gone")
    with default_storage.open(stored, "rb") as fh:
        photo = fh.read()
    new_options = dict(options if options is not None else source.options)
    new_options["crop"] = crop
    return create_job(owner=user, photo=photo, filename=source.input_name, options=new_options, source_job=source)


def reexport_with_params(*, user: User, job_id: Any, changes: dict[str, Any]) -> GenerationJob:
    """A new job on the same photo whose avatar is built with the job's parameters changed by
    `changes` (validated again by the builder's rules); it registers a new avatar version."""
    source = _owned(user, job_id)
    merged = _merged_params(source, changes)
    options = dict(source.options)
    options["params"] = merged.as_dict()
    photo = _stored_photo(source)
    return create_job(owner=user, photo=photo, filename=source.input_name, options=options, source_job=source)


def _merged_params(source: GenerationJob, changes: dict[str, Any]):
    from .chibi.params import AvatarParams, ParamsError, clean

    body = source.stages.filter(name="body", status=StageStatus.DONE).first()
    if body is None or "params" not in (body.data or {}):
        raise Conflict(_("The avatar has not been built yet; its parameters come once it is."), code="params_not_ready",
                       details={"status": source.status})
    try:
        return clean(AvatarParams(**body.data["params"]), changes)
    except (ParamsError, TypeError) as exc:
        field = getattr(exc, "field", "params")
        raise AppError(_("Some parameters are invalid."), code="invalid_params", details={field: [str(exc)]}) from None


def preview_with_params(*, user: User, job: GenerationJob, changes: dict[str, Any]) -> bytes:
    """The job's avatar rebuilt with `changes`, as VRM bytes; nothing is stored (a read, really)."""
    from .chibi.assemble import assemble
    from .stages.build import vrm_meta

    if job.owner_id != user.pk:
        raise NotFound(_("No such generation job."), code="not_found")
    return assemble(_merged_params(job, changes), vrm_meta(job.options or {}, user.name))


def _stored_photo(source: GenerationJob) -> bytes:
    ingest = source.stages.filter(name="ingest", status=StageStatus.DONE).first()
    stored = (ingest.files.get("photo.jpg") if ingest else None) or source.input_file
    if not stored:
        raise Conflict(_("The photo of this job is no longer stored. Upload it again."), code="photo_gone")
    with default_storage.open(stored, "rb") as fh:
        return fh.read()


@transaction.atomic
def use_as_actor(*, user: User, job_id: Any, replace_actor_id: int | None = None) -> tuple[Any, bool]:
    """“Use as my avatar”: the job's avatar becomes an actor for calls. Returns (actor, switched).

    Without `replace_actor_id` a new actor is made; when the plan's actor slots are full that is
    403 actor_slots_exceeded whose details list the user's actors ({"actors": [{id, name,
    avatar_name}]}) so the client can offer to switch one. With it, that actor (the user's own,
    else 404) keeps its name and settings and now performs with the new avatar.
    """
    from characters.avatars.actors import create_actor, update_actor
    from characters.models import Actor

    job = _owned(user, job_id)
    if job.avatar_id is None:
        raise Conflict(_("This job has no avatar in your library yet."), code="avatar_not_ready", details={"status": job.status})
    if replace_actor_id is not None:
        return update_actor(user=user, actor_id=replace_actor_id, avatar_id=job.avatar_id), True
    try:
        return create_actor(user=user, name=job.avatar.name[:64], avatar_id=job.avatar_id), False
    except LimitExceeded as exc:
        if exc.code != "actor_slots_exceeded":
            raise
        actors = [{"id": a.pk, "name": a.name, "avatar_name": a.avatar.name}
                  for a in Actor.objects.filter(owner=user).select_related("avatar").order_by("created_at", "id")]
        details = dict(exc.details or {}) | {"actors": actors}
        raise LimitExceeded(
            _("All %(allowed)d of your plan's actor slots are in use. Choose an actor to switch to this avatar instead.")
            % {"allowed": details.get("allowed", len(actors))},
            code="actor_slots_exceeded", details=details,
        ) from None


@transaction.atomic
def cancel_job(*, user: User, job_id: Any) -> GenerationJob:
    """Queued jobs stop at once; a running job stops at its next checkpoint (within a second or so)."""
    job = _owned(user, job_id, lock=True)
    if job.is_finished:
        raise Conflict(_("This job has already finished."), code="job_finished", details={"status": job.status})
    job.cancel_requested = True
    if job.status == JobStatus.QUEUED:
        _finish(job, JobStatus.CANCELLED)
    else:
        job.save(update_fields=["cancel_requested", "updated_at"])
        _announce(job.id)
    return job


@transaction.atomic
def retry_job(*, user: User, job_id: Any) -> GenerationJob:
    """Queue a failed or cancelled job again; it resumes at the first stage that is not done."""
    job = _owned(user, job_id, lock=True)
    if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
        raise Conflict(_("Only a failed or cancelled job can be retried."), code="job_not_retryable", details={"status": job.status})
    if job.retries >= setting("GENERATION_MAX_RETRIES"):
        raise LimitExceeded(
            _("This job was already retried %(n)d times. Start a new one with another photo.") % {"n": job.retries},
            code="retry_limit_reached", details={"retries": job.retries},
        )
    if not job.input_file and not job.stages.filter(name="ingest", status=StageStatus.DONE).exists():
        raise Conflict(_("The photo of this job is no longer stored. Upload it again."), code="photo_gone")
    job.stages.exclude(status=StageStatus.DONE).update(status=StageStatus.PENDING)
    first = next_stage(job)
    job.status = JobStatus.QUEUED
    job.retries += 1
    job.recoveries = 0
    job.cancel_requested = False
    job.error_code = job.error_message = ""
    job.error_details = None
    job.run_token = None
    job.finished_at = None
    job.stage = first or ""
    job.progress = progress_at(first, 0.0) if first else 99
    job.save()
    _enqueue_after_commit(job.id)
    _announce(job.id)
    return job


@transaction.atomic
def delete_job(*, user: User, job_id: Any) -> None:
    """Delete a finished job and its stored files (the avatar it made stays in the library)."""
    job = _owned(user, job_id, lock=True)
    if not job.is_finished:
        raise Conflict(_("Cancel the job before deleting it."), code="job_running")
    purge_job(job)


def purge_job(job: GenerationJob) -> None:
    """Delete a job row and, after commit, its files (also used by the admin)."""
    names = job_files(job)
    job.delete()
    _delete_after_commit(names)


# --- the worker's run ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RunTicket:
    job_id: str
    token: uuid.UUID
    start_stage: str
    owner_id: int
    owner_name: str
    options: dict[str, Any]


def next_stage(job: GenerationJob) -> str | None:
    done = set(job.stages.filter(status=StageStatus.DONE).values_list("name", flat=True))
    return next((name for name in PIPELINE if name not in done), None)


def _finish(job: GenerationJob, status: str, *, code: str = "", message: str = "", details: Any = None) -> None:
    job.status = status
    job.finished_at = timezone.now()
    job.run_token = None
    if status == JobStatus.FAILED:
        job.error_code, job.error_message, job.error_details = code, message, details
        if job.stage:
            job.stages.filter(name=job.stage).exclude(status=StageStatus.DONE).update(status=StageStatus.FAILED)
    elif status == JobStatus.CANCELLED:
        job.stages.filter(status=StageStatus.RUNNING).update(status=StageStatus.PENDING)
    job.save()
    _announce(job.id)


@transaction.atomic
def begin_run(*, job_id: str) -> RunTicket | None:
    """Take the job for this delivery of the task. None when there is nothing to do.

    A job found "running" means an earlier delivery died mid-run (the broker redelivered the task
    because of acks_late): it resumes from its first unfinished stage, at most
    GENERATION_MAX_RECOVERIES times, then fails with worker_lost.
    """
    job = GenerationJob.objects.select_for_update().select_related("owner").filter(pk=job_id).first()
    if job is None or job.is_finished:
        return None
    if job.cancel_requested:
        _finish(job, JobStatus.CANCELLED)
        return None
    if job.status == JobStatus.RUNNING:
        job.recoveries += 1
        if job.recoveries > setting("GENERATION_MAX_RECOVERIES"):
            _finish(job, JobStatus.FAILED, code="worker_lost", message=_worker_lost_message(job), details={"stage": job.stage})
            return None
    start = next_stage(job)
    if start is None:  # every stage done but not marked: finish it now
        job.run_token = uuid.uuid4()
        job.save(update_fields=["run_token"])
        ticket = RunTicket(str(job.id), job.run_token, "", job.owner_id, job.owner.name, job.options)
        succeed_job(ticket=ticket)
        return None
    now = timezone.now()
    job.status = JobStatus.RUNNING
    job.run_token = uuid.uuid4()
    job.heartbeat_at = now
    job.started_at = job.started_at or now
    job.stage = start
    job.progress = progress_at(start, 0.0)
    job.save()
    _announce(job.id)
    return RunTicket(str(job.id), job.run_token, start, job.owner_id, job.owner.name, dict(job.options))


def _worker_lost_message(job: GenerationJob) -> str:
    return job_error_message("worker_lost", stage=job.stage)


def _locked_run(ticket: RunTicket) -> GenerationJob:
    job = GenerationJob.objects.select_for_update().filter(pk=ticket.job_id).first()
    if job is None or job.run_token != ticket.token or job.status != JobStatus.RUNNING:
        raise RunSuperseded()
    return job


@transaction.atomic
def start_stage(*, ticket: RunTicket, name: str, backend: str) -> None:
    job = _locked_run(ticket)
    if job.cancel_requested:
        raise JobCancelled()
    now = timezone.now()
    JobStage.objects.filter(job=job, name=name).update(
        status=StageStatus.RUNNING, backend=backend[:200], started_at=now, finished_at=None, runs=F("runs") + 1
    )
    job.stage = name
    job.progress = progress_at(name, 0.0)
    job.heartbeat_at = now
    job.save(update_fields=["stage", "progress", "heartbeat_at", "updated_at"])
    _announce(job.id)


def heartbeat(*, ticket: RunTicket, stage: str, fraction: float | None, write: bool) -> None:
    """Called from stage checkpoints: stop on cancel or takeover; record progress when `write`."""
    row = GenerationJob.objects.filter(pk=ticket.job_id).values("run_token", "status", "cancel_requested").first()
    if row is None or row["run_token"] != ticket.token or row["status"] != JobStatus.RUNNING:
        raise RunSuperseded()
    if row["cancel_requested"]:
        raise JobCancelled()
    if write:
        with transaction.atomic():
            fields: dict[str, Any] = {"heartbeat_at": timezone.now()}
            if fraction is not None:
                fields["progress"] = progress_at(stage, fraction)
            updated = GenerationJob.objects.filter(pk=ticket.job_id, run_token=ticket.token).update(**fields)
            if updated and fraction is not None:
                _announce(ticket.job_id)


def complete_stage(*, ticket: RunTicket, name: str, output: StageOutput, duration_ms: int) -> dict[str, str]:
    """Store the stage's artifacts and preview, then mark it done. Returns artifact storage names."""
    folder = f"generation/{ticket.owner_id}/{uuid.UUID(ticket.job_id).hex}/{name}"
    written: list[str] = []
    try:
        files = {}
        for artifact, content in output.files.items():
            safe = artifact.replace("/", "_").replace("\\", "_")[:64]
            stored = default_storage.save(f"{folder}/{safe}", ContentFile(content))
            written.append(stored)
            files[artifact] = stored
        preview = ""
        if output.preview:
            ext = ".png" if output.preview_type == "image/png" else ".jpg"
            preview = default_storage.save(f"{folder}/preview{ext}", ContentFile(output.preview))
            written.append(preview)
        with transaction.atomic():
            job = _locked_run(ticket)
            stage = JobStage.objects.select_for_update().get(job=job, name=name)
            old = list(stage.files.values()) + ([stage.preview] if stage.preview else [])
            stage.status = StageStatus.DONE
            stage.finished_at = timezone.now()
            stage.duration_ms = max(0, int(duration_ms))
            stage.data = output.data
            stage.files = files
            stage.preview = preview
            stage.note = str(output.note)[:300]
            stage.save()
            job.progress = progress_at(name, 1.0)
            job.heartbeat_at = timezone.now()
            job.save(update_fields=["progress", "heartbeat_at", "updated_at"])
            _delete_after_commit([n for n in old if n not in written])
            _announce(job.id)
    except BaseException:
        _delete_files(written)
        raise
    return files


@transaction.atomic
def fail_run(*, ticket: RunTicket, stage: str, code: str, message: str, details: Any = None) -> None:
    try:
        job = _locked_run(ticket)
    except RunSuperseded:
        return
    job.stage = stage
    _finish(job, JobStatus.FAILED, code=code, message=message, details=details)


@transaction.atomic
def cancel_run(*, ticket: RunTicket) -> None:
    try:
        job = _locked_run(ticket)
    except RunSuperseded:
        return
    _finish(job, JobStatus.CANCELLED)


@transaction.atomic
def succeed_job(*, ticket: RunTicket) -> None:
    job = _locked_run(ticket)
    register = job.stages.filter(name="register").first()
    avatar_id = (register.data or {}).get("avatar_id") if register else None
    if avatar_id:
        from characters.models import Avatar

        job.avatar = Avatar.objects.filter(pk=avatar_id, owner_id=job.owner_id).first()
    job.progress = 100
    job.stage = ""
    job.error_code = job.error_message = ""
    job.error_details = None
    # The raw upload may carry EXIF (GPS, camera); the cleaned copy from ingest is all we keep.
    _delete_after_commit([job.input_file])
    job.input_file = ""
    _finish(job, JobStatus.SUCCEEDED)


# --- crashed workers ---------------------------------------------------------------------------------


def sweep_stale_jobs(*, job_ids: list[Any] | None = None) -> int:
    """Fail (or cancel, when asked) running jobs whose worker stopped sending heartbeats, and queued
    jobs no worker started in time. Runs when a worker starts and on Celery beat's schedule
    (settings.CELERY_BEAT_SCHEDULE), never from a read.
    """
    now = timezone.now()
    running_cutoff = now - timedelta(seconds=setting("GENERATION_STAGE_TIMEOUT") + STALE_GRACE_SECONDS)
    queued_cutoff = now - timedelta(seconds=setting("GENERATION_QUEUE_TIMEOUT"))
    base = GenerationJob.objects.all()
    if job_ids is not None:
        base = base.filter(pk__in=job_ids)
    stale_running = base.filter(status=JobStatus.RUNNING, heartbeat_at__lt=running_cutoff)
    stale_queued = base.filter(status=JobStatus.QUEUED, updated_at__lt=queued_cutoff)
    candidates = list(stale_running.values_list("pk", flat=True)) + list(stale_queued.values_list("pk", flat=True))
    swept = 0
    for pk in candidates:
        with transaction.atomic():
            job = GenerationJob.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if job is None or job.is_finished:
                continue
            if job.status == JobStatus.RUNNING and job.heartbeat_at and job.heartbeat_at >= running_cutoff:
                continue
            if job.status == JobStatus.QUEUED and job.updated_at >= queued_cutoff:
                continue
            swept += 1
            if job.cancel_requested:
                _finish(job, JobStatus.CANCELLED)
            elif job.status == JobStatus.RUNNING:
                _finish(job, JobStatus.FAILED, code="worker_lost", message=_worker_lost_message(job), details={"stage": job.stage})
            else:
                _finish(job, JobStatus.FAILED, code="queue_timeout", message=job_error_message("queue_timeout", stage=""))
    return swept


__all__ = [
    "FINISHED", "RunTicket", "begin_run", "cancel_job", "cancel_run", "check_photo", "complete_stage", "create_job",
    "delete_job", "enqueue", "fail_run", "group_name", "heartbeat", "purge_job", "rerun_with_crop", "retry_job",
    "start_stage", "succeed_job", "sweep_stale_jobs",
]
