"""Job control: cancel (queued and mid-stage), retry from the failed stage reusing artifacts, limits,
stage time limits, crashed workers (redelivery, stale sweep, takeover) and clean deletion."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.test import TestCase
from django.utils import timezone

from avatarforge.errors import AppError, Conflict, LimitExceeded, NotFound
from characters.models import Avatar
from generation import services
from generation.models import GenerationJob, JobStatus, StageStatus
from generation.stages import PIPELINE

from .backends import FlakyRig
from .conftest import create_job, run, stored_files

pytestmark = pytest.mark.django_db


def test_create_refuses_bad_photos_and_leaves_nothing(user, _media_root):
    with pytest.raises(AppError) as err:
        services.create_job(owner=user, photo=b"hello, not a photo", filename="x.jpg", options={})
    assert err.value.code == "image_type_unsupported"
    assert not GenerationJob.objects.exists() and stored_files(_media_root) == []


def test_cancel_a_queued_job_stops_it_at_once(user, face_jpeg):
    job = create_job(user, face_jpeg)
    services.cancel_job(user=user, job_id=job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.cancel_requested and job.finished_at
    # A late delivery of the task does nothing.
    assert run(job) == "skipped"
    assert job.stages.filter(status=StageStatus.DONE).count() == 0
    with pytest.raises(Conflict) as err:
        services.cancel_job(user=user, job_id=job.id)
    assert err.value.code == "job_finished"


def test_cancel_mid_stage_stops_at_the_next_checkpoint(user, face_jpeg, settings):
    settings.GENERATION_BACKENDS = {"stylize": "tests.generation.backends.CancellingStylize"}
    job = create_job(user, face_jpeg)
    assert run(job) == "cancelled"
    assert job.status == JobStatus.CANCELLED
    states = dict(job.stages.values_list("name", "status"))
    assert states["ingest"] == states["detect"] == StageStatus.DONE
    assert states["stylize"] == StageStatus.PENDING  # interrupted, not done, not failed
    assert all(states[name] == StageStatus.PENDING for name in PIPELINE[3:])
    assert not Avatar.objects.exists()


def test_retry_resumes_at_the_failed_stage_and_reuses_earlier_artifacts(user, face_jpeg, settings):
    settings.GENERATION_BACKENDS = {"rig": "tests.generation.backends.FlakyRig"}
    job = create_job(user, face_jpeg)
    assert run(job) == "failed"
    assert job.status == JobStatus.FAILED and job.stage == "rig"
    assert job.error_code == "rig_unavailable" and job.error_message == "The rig server is warming up."
    assert job.error_details == {"try": 1}
    body = job.stages.get(name="body")
    kept = dict(body.files)
    assert job.stages.get(name="rig").status == StageStatus.FAILED
    assert not Avatar.objects.exists()

    with TestCase.captureOnCommitCallbacks(execute=True):
        services.retry_job(user=user, job_id=job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.retries == 1 and job.error_code == "" and job.stage == "rig"
    assert run(job) == "succeeded"
    runs = dict(job.stages.values_list("name", "runs"))
    assert runs["ingest"] == runs["detect"] == runs["stylize"] == runs["palette"] == runs["body"] == 1
    assert runs["rig"] == 2 and runs["export"] == 1
    assert job.stages.get(name="body").files == kept and all(default_storage.exists(n) for n in kept.values())
    assert FlakyRig.runs.count(str(job.id)) == 2
    assert Avatar.objects.filter(owner=user, pk=job.avatar_id).exists()


def test_retry_rules(user, face_jpeg, settings):
    job = create_job(user, face_jpeg)
    with pytest.raises(Conflict) as err:
        services.retry_job(user=user, job_id=job.id)
    assert err.value.code == "job_not_retryable"
    settings.GENERATION_MAX_RETRIES = 1
    settings.GENERATION_BACKENDS = {"palette": "tests.generation.backends.BrokenPalette"}
    assert run(job) == "failed"
    services.retry_job(user=user, job_id=job.id)
    assert run(job) == "failed"
    with pytest.raises(LimitExceeded) as err:
        services.retry_job(user=user, job_id=job.id)
    assert err.value.code == "retry_limit_reached"


def test_an_unexpected_error_names_the_step_and_keeps_details_out_of_the_message(user, face_jpeg, settings, caplog):
    settings.GENERATION_BACKENDS = {"palette": "tests.generation.backends.BrokenPalette"}
    job = create_job(user, face_jpeg)
    assert run(job) == "failed"
    assert job.error_code == "generation_failed" and job.stage == "palette"
    assert "Reading hair, eyes and colours" in job.error_message and "division" not in job.error_message
    assert job.error_details == {"stage": "palette", "error": "RuntimeError"}
    assert "division by zero" in caplog.text


def test_a_stage_past_its_time_limit_fails_with_stage_timeout(user, face_jpeg, settings):
    settings.GENERATION_STAGE_TIMEOUT = 0  # the first checkpoint is already late
    job = create_job(user, face_jpeg)
    assert run(job) == "failed"
    assert job.error_code == "stage_timeout" and job.stage == "ingest"
    assert job.error_details == {"limit_seconds": 0}


def test_a_wrong_backend_setting_fails_the_job_clearly(user, face_jpeg, settings):
    settings.GENERATION_BACKENDS = {"detect": "tests.generation.backends.NotAStage"}
    job = create_job(user, face_jpeg)
    assert run(job) == "failed"
    assert job.stage == "detect" and job.error_code == "generation_failed"


def test_daily_limit_counts_todays_jobs(user, face_jpeg):
    for _ in range(user.plan.generation_jobs_per_day):
        create_job(user, face_jpeg)
    with pytest.raises(LimitExceeded) as err:
        create_job(user, face_jpeg)
    assert err.value.code == "generation_jobs_per_day_exceeded"
    assert GenerationJob.objects.filter(owner=user).count() == user.plan.generation_jobs_per_day
    # Yesterday's jobs do not count.
    GenerationJob.objects.filter(owner=user).update(created_at=timezone.now() - timedelta(days=2))
    create_job(user, face_jpeg)


def test_a_full_avatar_library_is_refused_before_any_work(user, face_jpeg, _media_root):
    user.plan.avatar_slots = 0
    user.plan.save()
    with pytest.raises(LimitExceeded) as err:
        create_job(user, face_jpeg)
    assert err.value.code == "avatar_slots_exceeded"
    assert not GenerationJob.objects.exists() and stored_files(_media_root) == []


def test_register_failure_is_retryable_after_freeing_a_slot(user, face_jpeg):
    job = create_job(user, face_jpeg)
    user.plan.avatar_slots = 0  # the library filled up while the job ran
    user.plan.save()
    assert run(job) == "failed"
    assert job.stage == "register" and job.error_code == "avatar_slots_exceeded"
    user.plan.avatar_slots = 5
    user.plan.save()
    services.retry_job(user=user, job_id=job.id)
    assert run(job) == "succeeded"
    assert dict(job.stages.values_list("name", "runs"))["export"] == 1


def _running(job: GenerationJob, stage: str, heartbeat_age: float) -> None:
    GenerationJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, stage=stage, heartbeat_at=timezone.now() - timedelta(seconds=heartbeat_age),
        started_at=timezone.now(),
    )


def test_stale_running_job_is_failed_with_a_message(user, face_jpeg, settings):
    settings.GENERATION_STAGE_TIMEOUT = 10
    job = create_job(user, face_jpeg)
    _running(job, "stylize", heartbeat_age=5)
    assert services.sweep_stale_jobs() == 0  # alive: heartbeat younger than the limit
    _running(job, "stylize", heartbeat_age=10 + services.STALE_GRACE_SECONDS + 1)
    assert services.sweep_stale_jobs(job_ids=[job.pk]) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error_code == "worker_lost"
    assert "Drawing the cartoon look" in job.error_message
    assert job.stages.get(name="stylize").status == StageStatus.FAILED
    # It can be retried from there.
    services.retry_job(user=user, job_id=job.id)
    assert run(job) == "succeeded"


def test_stale_job_that_was_being_cancelled_ends_cancelled(user, face_jpeg, settings):
    settings.GENERATION_STAGE_TIMEOUT = 10
    job = create_job(user, face_jpeg)
    _running(job, "detect", heartbeat_age=100)
    GenerationJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    services.sweep_stale_jobs()
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED


def test_queued_job_no_worker_started_times_out(user, face_jpeg, settings):
    settings.GENERATION_QUEUE_TIMEOUT = 60
    job = create_job(user, face_jpeg)
    GenerationJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(seconds=120))
    assert services.sweep_stale_jobs() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error_code == "queue_timeout"


def test_redelivered_task_resumes_once_then_gives_up(user, face_jpeg, settings):
    """acks_late redelivers the task of a worker that died mid-run: resume from the unfinished stage."""
    settings.GENERATION_MAX_RECOVERIES = 1
    settings.GENERATION_BACKENDS = {"rig": "tests.generation.backends.FlakyRig"}
    job = create_job(user, face_jpeg)
    assert run(job) == "failed"  # ingest..body done, rig failed
    # Pretend a worker was in the middle of the rig stage and died.
    GenerationJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, finished_at=None, heartbeat_at=timezone.now())
    assert run(job) == "succeeded"
    assert job.recoveries == 1
    assert dict(job.stages.values_list("name", "runs"))["body"] == 1

    second = create_job(user, face_jpeg)
    GenerationJob.objects.filter(pk=second.pk).update(status=JobStatus.RUNNING, recoveries=1, stage="detect")
    assert run(second) == "skipped"
    assert second.status == JobStatus.FAILED and second.error_code == "worker_lost"


def test_a_superseded_run_stops_without_writing(user, face_jpeg, monkeypatch):
    job = create_job(user, face_jpeg)
    original = services.complete_stage

    def take_over(**kwargs):
        # Another delivery took the job (new run token) while this one was working.
        GenerationJob.objects.filter(pk=job.pk).update(run_token=None)
        return original(**kwargs)

    monkeypatch.setattr(services, "complete_stage", take_over)
    assert run(job) == "skipped"
    assert job.stages.filter(status=StageStatus.DONE).count() == 0
    assert job.status == JobStatus.RUNNING


def test_delete_removes_the_job_and_its_files_but_not_the_avatar(user, face_jpeg, _media_root):
    job = create_job(user, face_jpeg)
    with pytest.raises(Conflict):
        services.delete_job(user=user, job_id=job.id)
    assert run(job) == "succeeded"
    assert any("generation" in str(p) for p in stored_files(_media_root))
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.delete_job(user=user, job_id=job.id)
    assert not GenerationJob.objects.exists()
    assert [p for p in stored_files(_media_root) if "generation" in str(p)] == []
    assert Avatar.objects.filter(owner=user).count() == 1


def test_other_users_jobs_are_not_found(user, other_user, face_jpeg):
    job = create_job(user, face_jpeg)
    for action in (services.cancel_job, services.retry_job, services.delete_job):
        with pytest.raises(NotFound):
            action(user=other_user, job_id=job.id)
    with pytest.raises(NotFound):
        services.rerun_with_crop(user=other_user, job_id=job.id, crop={"x": 0.5, "y": 0.5, "size": 0.5})
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and not job.cancel_requested


def test_counter_is_registered_for_the_profile_page(user, face_jpeg):
    from accounts.services import usage_for

    create_job(user, face_jpeg)
    usage = {u["limit"]: u for u in usage_for(user=user)}
    assert usage["generation_jobs_per_day"]["used"] == 1
    assert usage["generation_jobs_per_day"]["label"] == "generation jobs today"
