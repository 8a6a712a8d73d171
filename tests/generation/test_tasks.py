"""The generation tasks as Celery runs them: the periodic sweep on beat's schedule."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from avatarforge.celery import app
from generation import services
from generation.conf import SWEEP_TASK
from generation.models import GenerationJob, JobStatus
from generation.tasks import sweep_stale_generation_jobs

from .conftest import create_job

pytestmark = pytest.mark.django_db


def test_beat_schedules_the_sweep_task_that_the_worker_registers():
    entries = [e for e in django_settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == SWEEP_TASK]
    assert len(entries) == 1 and 0 < entries[0]["schedule"] <= 300
    assert SWEEP_TASK in app.tasks  # the name beat sends is one the worker runs


def test_the_sweep_task_fails_dead_and_unstarted_jobs_and_leaves_live_ones(studio_user, face_jpeg, settings):
    settings.GENERATION_STAGE_TIMEOUT = 10
    settings.GENERATION_QUEUE_TIMEOUT = 60
    dead, alive, lost, fresh = (create_job(studio_user, face_jpeg) for _ in range(4))
    old = timezone.now() - timedelta(seconds=10 + services.STALE_GRACE_SECONDS + 1)
    GenerationJob.objects.filter(pk=dead.pk).update(status=JobStatus.RUNNING, stage="rig", heartbeat_at=old)
    GenerationJob.objects.filter(pk=alive.pk).update(status=JobStatus.RUNNING, stage="rig", heartbeat_at=timezone.now())
    GenerationJob.objects.filter(pk=lost.pk).update(updated_at=timezone.now() - timedelta(seconds=120))

    assert sweep_stale_generation_jobs.apply().get() == 2
    states = {j.pk: (j.status, j.error_code) for j in GenerationJob.objects.all()}
    assert states == {
        dead.pk: (JobStatus.FAILED, "worker_lost"),
        alive.pk: (JobStatus.RUNNING, ""),
        lost.pk: (JobStatus.FAILED, "queue_timeout"),
        fresh.pk: (JobStatus.QUEUED, ""),
    }
    assert sweep_stale_generation_jobs.apply().get() == 0  # nothing left to sweep
