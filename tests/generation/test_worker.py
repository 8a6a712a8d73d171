"""Through a real Celery worker process on the real broker, as production runs it."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection

from generation.models import GenerationJob, JobStatus
from generation.tasks import run_generation_job

from .conftest import create_job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def database_url() -> str | None:
    db = settings.DATABASES["default"]
    if connection.vendor != "postgresql":
        return None  # the worker cannot share an in-memory SQLite test database
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(settings, tmp_path):
    url = database_url()
    if not url or not settings.REDIS_URL:
        pytest.skip("needs PostgreSQL and Redis (as in CI)")
    queue = f"test-generation-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ, "DATABASE_URL": url, "REDIS_URL": settings.REDIS_URL, "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "AVATARFORGE_TESTING": "1", "DJANGO_SETTINGS_MODULE": "avatarforge.settings", "GENERATION_QUEUE": queue,
    }
    log = open(tmp_path / "worker.log", "w+")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "avatarforge", "worker", "-Q", queue, "-c", "1", "-P", "solo",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"],
        cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        yield queue
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.seek(0)
        output = log.read()
        log.close()
        print(output[-4000:])


def wait_finished(job: GenerationJob, deadline_s: float = 180) -> GenerationJob:
    """Poll the database until the job finishes (a guard against hanging, not a timing check)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        job.refresh_from_db()
        if job.is_finished:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job still {job.status} at stage {job.stage}")


def test_a_worker_process_runs_the_job_to_the_library(worker, user, face_jpeg):
    job = create_job(user, face_jpeg, name="Worked")
    run_generation_job.apply_async(args=[str(job.id)], queue=worker)
    job = wait_finished(job)
    assert job.status == JobStatus.SUCCEEDED, (job.error_code, job.error_message)
    assert job.avatar is not None and job.avatar.name == "Worked"
    assert job.stages.filter(status="done").count() == 9
    # A duplicate delivery of the finished job's task changes nothing.
    run_generation_job.apply_async(args=[str(job.id)], queue=worker)
    cancelled = create_job(user, face_jpeg)
    from generation import services

    services.cancel_job(user=user, job_id=cancelled.id)
    run_generation_job.apply_async(args=[str(cancelled.id)], queue=worker)
    run_generation_job.apply_async(args=[str(uuid.uuid4())], queue=worker)  # unknown job: ignored
    marker = create_job(user, face_jpeg)
    run_generation_job.apply_async(args=[str(marker.id)], queue=worker)
    assert wait_finished(marker).status == JobStatus.SUCCEEDED  # the worker survived the odd tasks
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.stages.get(name="register").runs == 1
    cancelled.refresh_from_db()
    assert cancelled.status == JobStatus.CANCELLED and cancelled.stages.filter(status="done").count() == 0
