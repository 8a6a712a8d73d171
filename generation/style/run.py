"""Runs a style job in the worker: the one service the Celery task calls.

read (decode the stored photo, read it into avatar parameters) -> draw (the portrait of the
job's preset and strength) -> save (PNG in storage). Each step starts at a checkpoint, where a
cancel, a takeover or the time limit stops the run.
"""
from __future__ import annotations

import logging

from django.utils.translation import gettext as _

from avatarforge.errors import AppError

from ..models import JobStatus
from . import services
from .portrait import draw_portrait
from .reading import read_for_portrait

logger = logging.getLogger(__name__)


def run_style_job(*, job_id: str) -> str:
    """Run a queued style job; returns how it ended: succeeded, failed, cancelled or skipped."""
    run = services.begin_style_run(job_id=job_id)
    if run is None:
        return "skipped"
    step = "read"
    try:
        run.checkpoint(step)
        rgb = services.decode_rgb(services.read_photo_bytes(job_id))
        photo = read_for_portrait(rgb)
        step = "draw"
        run.checkpoint(step)
        job = services.StyleJob.objects.only("preset", "strength").get(pk=job_id)
        image = draw_portrait(photo.portrait, job.preset, job.strength)
        step = "save"
        run.checkpoint(step)
        services.succeed_style_run(run=run, png=services.encode_png(image), reading=photo.reading, method=photo.method)
        return "succeeded"
    except services.StyleCancelled:
        services.end_style_run(run=run, status=JobStatus.CANCELLED)
        return "cancelled"
    except services.StyleSuperseded:
        return "skipped"
    except services.StyleTimeout:
        limit = services.setting("GENERATION_STAGE_TIMEOUT")
        services.end_style_run(run=run, status=JobStatus.FAILED, code="stage_timeout", details={"limit_seconds": limit, "step": step},
                               message=_("The portrait took longer than %(s)d seconds and was stopped. Retry, or use a smaller photo.") % {"s": limit})
        return "failed"
    except AppError as exc:  # the stored photo could not be decoded after all
        services.end_style_run(run=run, status=JobStatus.FAILED, code=exc.code, message=exc.message, details=exc.details)
        return "failed"
    except Exception as exc:
        if type(exc).__name__ == "SoftTimeLimitExceeded":
            limit = services.setting("GENERATION_STAGE_TIMEOUT")
            services.end_style_run(run=run, status=JobStatus.FAILED, code="stage_timeout", details={"limit_seconds": limit, "step": step},
                                   message=_("The portrait took longer than %(s)d seconds and was stopped. Retry, or use a smaller photo.") % {"s": limit})
            return "failed"
        logger.exception("style job %s failed in step %s", job_id, step)
        services.end_style_run(run=run, status=JobStatus.FAILED, code="style_failed", details={"step": step, "error": type(exc).__name__},
                               message=_("Drawing the portrait failed unexpectedly. Retry; if it fails again, try another photo."))
        return "failed"
