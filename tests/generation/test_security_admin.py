"""Admin actions that change jobs need the change permission, not only view access."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from generation.models import GenerationJob, JobStatus

from .conftest import create_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(make_user, client, password):
    staff = make_user("viewer@example.com", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_generationjob"))
    assert client.login(email=staff.email, password=password)
    return client


@pytest.mark.parametrize("action", ["cancel_jobs", "retry_jobs", "sweep_stale"])
def test_view_only_staff_cannot_run_job_actions(viewer, user, face_jpeg, action):
    job = create_job(user, face_jpeg)
    url = "/admin/generation/generationjob/"
    assert viewer.get(url).status_code == 200
    page = viewer.get(url).content.decode()
    assert f'value="{action}"' not in page
    viewer.post(url, {"action": action, "_selected_action": [str(job.pk)]})
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert GenerationJob.objects.filter(pk=job.pk, cancel_requested=False).exists()
