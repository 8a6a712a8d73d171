"""Runs a job's stages in order in the worker: the one service the Celery task calls.

Each stage gets a context that reads earlier artifacts (kept in memory once loaded) and whose
checkpoint enforces the stage's time limit, stops on cancel or takeover, and reports progress.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from . import services
from .conf import setting
from .messages import job_error_message
from .models import GenerationJob, JobStage, StageStatus
from .stages import PIPELINE, backend_path, get_stage
from .stages.base import JobCancelled, RunSuperseded, StageError, StageTimeout

logger = logging.getLogger(__name__)

PROGRESS_WRITE_INTERVAL = 0.4  # seconds between progress writes inside a stage


class JobContext:
    """What a stage sees of its job (see stages.base.StageContext)."""

    def __init__(self, ticket: services.RunTicket) -> None:
        self.ticket = ticket
        self.job_id = ticket.job_id
        self.options: dict[str, Any] = ticket.options
        self.owner_id = ticket.owner_id
        self.owner_name = ticket.owner_name
        self._stages: dict[str, JobStage] = {s.name: s for s in JobStage.objects.filter(job_id=ticket.job_id)}
        self._files: dict[tuple[str, str], bytes] = {}
        self.stage = ""
        self.limit = float(setting("GENERATION_STAGE_TIMEOUT"))
        self._started = time.monotonic()
        self._last_write = 0.0

    # Reading artifacts -----------------------------------------------------------------------
    def input_photo(self) -> bytes:
        job = GenerationJob.objects.only("input_file").get(pk=self.job_id)
        if not job.input_file:
            raise StageError(_("The uploaded photo is no longer stored. Upload it again."), code="photo_gone")
        with default_storage.open(job.input_file, "rb") as fh:
            return fh.read()

    def data(self, stage: str) -> dict[str, Any]:
        row = self._stages.get(stage)
        if row is None or row.status != StageStatus.DONE:
            raise StageError(_("A previous step's result is missing. Retry the job."), code="artifact_missing", details={"stage": stage})
        return row.data

    def file(self, stage: str, name: str) -> bytes:
        key = (stage, name)
        if key not in self._files:
            row = self._stages.get(stage)
            stored = row.files.get(name) if row is not None and row.status == StageStatus.DONE else None
            if not stored:
                raise StageError(_("A previous step's result is missing. Retry the job."), code="artifact_missing", details={"stage": stage, "file": name})
            try:
                with default_storage.open(stored, "rb") as fh:
                    self._files[key] = fh.read()
            except OSError:
                raise StageError(_("A previous step's result is missing. Retry the job."), code="artifact_missing", details={"stage": stage, "file": name}) from None
        return self._files[key]

    # Control ---------------------------------------------------------------------------------
    @property
    def time_left(self) -> float:
        return self.limit - (time.monotonic() - self._started)

    def begin(self, stage: str) -> None:
        self.stage = stage
        self._started = time.monotonic()
        self._last_write = self._started

    def checkpoint(self, fraction: float | None = None) -> None:
        if self.time_left < 0:
            raise StageTimeout()
        now = time.monotonic()
        write = now - self._last_write >= PROGRESS_WRITE_INTERVAL
        if write:
            self._last_write = now
        services.heartbeat(ticket=self.ticket, stage=self.stage, fraction=fraction, write=write)

    def stage_done(self, stage: str, data: dict, files: dict[str, str], contents: dict[str, bytes]) -> None:
        row = self._stages[stage]
        row.status, row.data, row.files = StageStatus.DONE, data, files
        for name, content in contents.items():
            self._files[(stage, name)] = content


def run_job(*, job_id: str) -> str:
    """Run (or resume) a job; returns how it ended: succeeded, failed, cancelled or skipped."""
    ticket = services.begin_run(job_id=job_id)
    if ticket is None:
        return "skipped"
    ctx = JobContext(ticket)
    for name in PIPELINE[PIPELINE.index(ticket.start_stage):]:
        outcome = _run_stage(ctx, ticket, name)
        if outcome is not None:
            return outcome
    try:
        services.succeed_job(ticket=ticket)
    except RunSuperseded:
        return "skipped"
    return "succeeded"


def _run_stage(ctx: JobContext, ticket: services.RunTicket, name: str) -> str | None:
    try:
        services.start_stage(ticket=ticket, name=name, backend=backend_path(name))
        stage = get_stage(name)
        ctx.begin(name)
        started = time.monotonic()
        output = stage.run(ctx)
        ctx.checkpoint(1.0)
        duration_ms = int((time.monotonic() - started) * 1000)
        files = services.complete_stage(ticket=ticket, name=name, output=output, duration_ms=duration_ms)
        ctx.stage_done(name, output.data, files, output.files)
        return None
    except JobCancelled:
        services.cancel_run(ticket=ticket)
        return "cancelled"
    except RunSuperseded:
        logger.info("generation job %s: run superseded during %s", ticket.job_id, name)
        return "skipped"
    except StageTimeout:
        details = {"limit_seconds": int(ctx.limit)}
        services.fail_run(ticket=ticket, stage=name, code="stage_timeout", details=details,
                          message=job_error_message("stage_timeout", stage=name, details=details))
        return "failed"
    except StageError as exc:
        services.fail_run(ticket=ticket, stage=name, code=exc.code, message=exc.message, details=exc.details)
        return "failed"
    except Exception as exc:  # a bug or an outage in a backend: say which step, log the rest
        if type(exc).__name__ == "SoftTimeLimitExceeded":  # Celery's limit for the whole task
            services.fail_run(ticket=ticket, stage=name, code="stage_timeout",
                              message=job_error_message("stage_timeout", stage=name))
            return "failed"
        logger.exception("generation job %s failed in stage %s", ticket.job_id, name)
        services.fail_run(
            ticket=ticket, stage=name, code="generation_failed",
            message=job_error_message("generation_failed", stage=name),
            details={"stage": name, "error": type(exc).__name__},
        )
        return "failed"
