"""Messages of job failures the pipeline itself produces, by code.

The worker stores the message in the default language when a job fails, but the reader may use
another one: status reads re-render these codes in the reader's language (other codes, e.g. from
a backend or the avatar library, keep their stored message).
"""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from .conf import setting
from .stages import LABELS


def job_error_message(code: str, *, stage: str, details: Any = None, fallback: str = "") -> str:
    step = str(LABELS.get(stage, stage))
    details = details if isinstance(details, dict) else {}
    if code == "stage_timeout":
        seconds = int(details.get("limit_seconds", setting("GENERATION_STAGE_TIMEOUT")))
        return _("“%(step)s” took longer than %(s)d seconds and was stopped. Retry, or use a smaller photo.") % {"step": step, "s": seconds}
    if code == "generation_failed" and stage:
        return _("“%(step)s” failed unexpectedly. Retry; if it fails again, try another photo.") % {"step": step}
    if code == "worker_lost":
        return _("The worker stopped during “%(step)s”. Retry to continue from that step.") % {"step": step}
    if code == "queue_timeout":
        return _("No worker started this job in time. Retry; if it keeps happening, the background worker is not running.")
    if code == "queue_unavailable":
        return _("The job could not be handed to a worker (the queue is not reachable). Retry in a moment.")
    return fallback
