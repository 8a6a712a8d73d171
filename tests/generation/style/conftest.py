"""Style jobs run inline in these tests (never through the real broker)."""
from __future__ import annotations

import pytest


@pytest.fixture
def style_queued(monkeypatch) -> list[str]:
    from generation.style import services

    sent: list[str] = []
    monkeypatch.setattr(services, "enqueue", lambda job_id: sent.append(job_id))
    return sent


@pytest.fixture(autouse=True)
def _no_style_celery(monkeypatch):
    from generation.style import services

    monkeypatch.setattr(services, "enqueue", lambda job_id: None)


def run_style(job) -> str:
    from django.test import TestCase

    from generation.style.run import run_style_job

    with TestCase.captureOnCommitCallbacks(execute=True):
        outcome = run_style_job(job_id=str(job.id))
    job.refresh_from_db()
    return outcome
