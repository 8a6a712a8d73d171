"""Celery tasks of avatar generation. They take ids and call one service."""
from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready

from . import services
from .conf import RUN_JOB_TASK, STYLE_JOB_TASK, SWEEP_TASK, setting
from .pipeline import run_job
from .stages import PIPELINE
from .style.run import run_style_job

logger = logging.getLogger(__name__)

# The whole run may take every stage's limit; past that Celery interrupts it (soft) and then kills
# the process (hard). acks_late + reject_on_worker_lost (settings) redeliver a task whose worker
# died; the run then resumes from its first unfinished stage (services.begin_run).
_SOFT_LIMIT = setting("GENERATION_STAGE_TIMEOUT") * len(PIPELINE) + 30


@shared_task(
    name=RUN_JOB_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=_SOFT_LIMIT,
    time_limit=_SOFT_LIMIT + 30,
    ignore_result=True,
)
def run_generation_job(job_id: str) -> str:
    return run_job(job_id=job_id)


# A style job is one short run: its own checkpoints stop it at GENERATION_STAGE_TIMEOUT; Celery's
# limits are the backstop for a step stuck between checkpoints.
_STYLE_SOFT_LIMIT = setting("GENERATION_STAGE_TIMEOUT") + 30


@shared_task(
    name=STYLE_JOB_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=_STYLE_SOFT_LIMIT,
    time_limit=_STYLE_SOFT_LIMIT + 30,
    ignore_result=True,
)
def run_style_transform_job(job_id: str) -> str:
    return run_style_job(job_id=job_id)


@shared_task(name=SWEEP_TASK, ignore_result=True)
def sweep_stale_generation_jobs() -> int:
    """Celery beat runs this every minute (settings.CELERY_BEAT_SCHEDULE)."""
    swept = services.sweep_stale_jobs()
    if swept:
        logger.warning("generation: %d stale job(s) failed by the periodic sweep", swept)
    return swept


@worker_ready.connect
def _sweep_on_worker_start(**_kwargs: object) -> None:
    """A worker that starts after a crash fails the jobs the dead one left running."""
    try:
        swept = services.sweep_stale_jobs()
        if swept:
            logger.warning("generation: %d stale job(s) marked failed at worker start", swept)
    except Exception:
        logger.exception("generation: stale-job sweep at worker start failed")
