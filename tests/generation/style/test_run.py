"""The style job's run in the worker: cancel at a checkpoint, the time limit, a takeover."""
from __future__ import annotations

import pytest

from generation.models import JobStatus
from generation.style import services
from generation.style.run import run_style_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(user, face_jpeg):
    return services.create_style_job(owner=user, photo=face_jpeg, preset="chibi", strength=0.5)


def test_a_cancel_during_the_run_stops_it_at_the_next_step(job, monkeypatch):
    real = services.StyleRun.checkpoint

    def cancel_before_drawing(self, step):
        if step == "draw":
            services.StyleJob.objects.filter(pk=self.job_id).update(cancel_requested=True)
        return real(self, step)

    monkeypatch.setattr(services.StyleRun, "checkpoint", cancel_before_drawing)
    assert run_style_job(job_id=str(job.id)) == "cancelled"
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.result_file == "" and job.step == "read"


def test_the_time_limit_fails_the_job_with_stage_timeout(job, settings):
    settings.GENERATION_STAGE_TIMEOUT = -1  # already past the limit at the first checkpoint
    assert run_style_job(job_id=str(job.id)) == "failed"
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error_code == "stage_timeout" and job.error_details["step"] == "read"


def test_a_superseded_run_stops_quietly(job, monkeypatch):
    real = services.StyleRun.checkpoint

    def taken_over(self, step):
        if step == "save":
            services.StyleJob.objects.filter(pk=self.job_id).update(run_token=None)
        return real(self, step)

    monkeypatch.setattr(services.StyleRun, "checkpoint", taken_over)
    assert run_style_job(job_id=str(job.id)) == "skipped"
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.result_file == ""


def test_a_finished_job_is_not_run_again(job):
    assert run_style_job(job_id=str(job.id)) == "succeeded"
    assert run_style_job(job_id=str(job.id)) == "skipped"
