"""Pages: upload form (works without JavaScript), the job page, form actions, authorization."""
from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from characters.models import Actor
from generation.models import GenerationJob, JobStatus

from .conftest import FIXTURES, create_job, run, stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_client(client, user):
    client.force_login(user)
    return client


def test_upload_page_lists_jobs_and_needs_login(client, page_client, user, other_user, face_jpeg):
    create_job(user, face_jpeg, name="Mine <b>bold</b>")
    create_job(other_user, face_jpeg, name="Theirs")
    response = page_client.get(reverse("generate_home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="gen-upload"' in html and 'enctype="multipart/form-data"' in html
    assert "Mine &lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html  # escaped
    assert "Theirs" not in html
    assert "dist/generation_upload.js" in html
    client.logout()
    assert client.get(reverse("generate_home")).status_code == 302


def test_form_upload_creates_a_job_and_opens_its_page(page_client, user, face_jpeg):
    response = page_client.post(reverse("generate_home"), {
        "image": SimpleUploadedFile("me.jpg", face_jpeg, content_type="image/jpeg"),
        "name": "Formy", "style": "comic", "heads": "2.8", "build": "sturdy",
        "pick_hair": "on", "color_hair": "#123456", "color_top": "#ffffff",
        "avatar_permission": "everyone", "commercial_usage": "corporation", "credit_notation": "required",
        "modification": "prohibited", "allow_redistribution": "on",
    })
    job = GenerationJob.objects.get(owner=user)
    assert response.status_code == 302 and response["Location"] == reverse("generate_job", kwargs={"job_id": job.id})
    assert job.options["name"] == "Formy" and job.options["style"] == "comic" and job.options["heads"] == 2.8
    assert job.options["build"] == "sturdy" and job.options["colors"] == {"hair": "#123456"}
    assert job.options["license"]["avatar_permission"] == "everyone" and job.options["license"]["allow_redistribution"] is True
    assert job.options["license"]["allow_violent"] is False


def test_form_upload_of_a_bad_file_shows_the_reason(page_client, _media_root):
    response = page_client.post(reverse("generate_home"), {"image": SimpleUploadedFile("x.jpg", b"nope", content_type="image/jpeg")})
    assert response.status_code == 400
    assert "not a JPEG, PNG or WebP photo" in response.content.decode()
    assert not GenerationJob.objects.exists() and stored_files(_media_root) == []


def test_job_page_of_a_finished_job(page_client, user, face_jpeg):
    job = create_job(user, face_jpeg, name="Shown")
    assert run(job) == "succeeded"
    response = page_client.get(reverse("generate_job", kwargs={"job_id": job.id}))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="gen-viewer"' in html and 'data-clip="wave"' in html and 'data-expression="blink"' in html
    assert f'/api/generate/{job.id}/result.vrm' in html
    assert "Use as my avatar" in html and "dist/generation_job.js" in html
    data = json.loads(html.split('id="gen-job-data" type="application/json">')[1].split("</script>")[0])
    assert data["status"] == "succeeded" and data["ws_path"] == f"/ws/generate/{job.id}/"
    # The expression buttons say their words in the reader's language (the mouth shapes are vowels).
    page_client.cookies["django_language"] = "ko"
    korean = page_client.get(reverse("generate_job", kwargs={"job_id": job.id})).content.decode()
    assert 'data-expression="happy" aria-pressed="false">기쁨<' in korean
    assert 'data-expression="blink" aria-pressed="false">눈 깜빡임<' in korean
    assert 'data-expression="aa" aria-pressed="false">aa<' in korean


def test_job_page_of_a_drawing_offers_the_crop(page_client, user, drawing_png):
    job = create_job(user, drawing_png, filename="house.png")
    assert run(job) == "succeeded"
    html = page_client.get(reverse("generate_job", kwargs={"job_id": job.id})).content.decode()
    assert 'id="gen-crop-panel" hidden' not in html and "No face was found" in html
    assert f"/api/generate/{job.id}/photo" in html


def test_form_actions(page_client, user, face_jpeg):
    job = create_job(user, face_jpeg)
    url = lambda name: reverse(name, kwargs={"job_id": job.id})  # noqa: E731
    assert page_client.post(url("generate_job_retry")).status_code == 302  # not retryable: message only
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.retries == 0
    page_client.post(url("generate_job_cancel"))
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    page_client.post(url("generate_job_retry"))
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.retries == 1
    assert page_client.get(url("generate_job_cancel")).status_code == 405
    page_client.post(url("generate_job_cancel"))
    response = page_client.post(url("generate_job_delete"))
    assert response.status_code == 302 and not GenerationJob.objects.filter(pk=job.pk).exists()


def test_recrop_form_and_use_as_avatar(page_client, user, drawing_png, settings):
    user.plan.generation_jobs_per_day = 5
    user.plan.save()
    job = create_job(user, drawing_png, filename="house.png")
    assert run(job) == "succeeded"
    response = page_client.post(reverse("generate_job_recrop", kwargs={"job_id": job.id}), {"x": "0.4", "y": "0.5", "size": "0.6"})
    new = GenerationJob.objects.exclude(pk=job.pk).get()
    assert response["Location"] == reverse("generate_job", kwargs={"job_id": new.id})
    assert new.options["crop"] == {"x": 0.4, "y": 0.5, "size": 0.6}
    bad = page_client.post(reverse("generate_job_recrop", kwargs={"job_id": job.id}), {"x": "9", "y": "0.5", "size": "0.6"})
    assert bad.status_code == 302 and GenerationJob.objects.count() == 2

    response = page_client.post(reverse("generate_job_actor", kwargs={"job_id": job.id}))
    assert response.status_code == 302
    actor = Actor.objects.get(owner=user)
    assert actor.avatar_id == job.avatar_id


def test_other_users_pages_are_404(client, user, other_user, face_jpeg):
    job = create_job(user, face_jpeg)
    client.force_login(other_user)
    for name in ("generate_job_cancel", "generate_job_retry", "generate_job_delete", "generate_job_recrop", "generate_job_actor"):
        assert client.post(reverse(name, kwargs={"job_id": job.id}), {"x": 0.5, "y": 0.5, "size": 0.5}).status_code == 404, name
    assert client.get(reverse("generate_job", kwargs={"job_id": job.id})).status_code == 404
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and GenerationJob.objects.count() == 1


def test_admin_pages(client, user, face_jpeg):
    from accounts.models import User

    job = create_job(user, face_jpeg)
    assert run(job) == "succeeded"
    admin = User.objects.create_superuser(email="root@example.com", password="pw-long-enough-1")
    client.force_login(admin)
    assert client.get(reverse("admin:generation_generationjob_changelist"), {"q": str(job.id)[:8]}).status_code == 200
    response = client.get(reverse("admin:generation_generationjob_change", args=[job.id]))
    assert response.status_code == 200 and b"validate" in response.content
    assert client.get(reverse("admin:generation_jobstage_changelist"), {"status__exact": "done"}).status_code == 200
    response = client.post(reverse("admin:generation_generationjob_changelist"), {"action": "sweep_stale", "_selected_action": [str(job.id)]})
    assert response.status_code == 302


def test_form_with_an_invalid_option_says_which(page_client, face_jpeg):
    response = page_client.post(reverse("generate_home"), {
        "image": SimpleUploadedFile("me.jpg", face_jpeg, content_type="image/jpeg"), "heads": "9", "modification": "sell",
    })
    assert response.status_code == 400
    html = response.content.decode()
    assert "heads: " in html and "license.modification: " in html
    assert not GenerationJob.objects.exists()


def test_a_cancelled_job_is_offered_to_continue_not_to_retry_a_failed_step(page_client, user, face_jpeg):
    job = create_job(user, face_jpeg)
    page_client.post(reverse("generate_job_cancel", kwargs={"job_id": job.id}))
    body = page_client.get(reverse("generate_job", kwargs={"job_id": job.id})).content.decode()
    form = body[body.index('id="gen-retry-form"'):]
    form = form[: form.index("</form>")]
    assert "hidden" not in form.split(">")[0]  # a cancelled job may still go on
    assert "Retry from the failed step" not in form
    assert "Continue from where it stopped" in form


def test_at_the_daily_job_limit_make_my_avatar_is_disabled_with_the_reason(page_client, user, face_jpeg):
    def submit_button(body: str) -> str:
        start = body.index('id="gen-submit"')
        return body[body.rindex("<button", 0, start): body.index("</button>", start)]

    for _ in range(user.plan.generation_jobs_per_day - 1):  # free: 3 a day
        create_job(user, face_jpeg)
    body = page_client.get(reverse("generate_home")).content.decode()
    assert "disabled" not in submit_button(body) and 'id="gen-blocked"' not in body
    create_job(user, face_jpeg)
    body = page_client.get(reverse("generate_home")).content.decode()
    assert "disabled" in submit_button(body) and 'aria-describedby="gen-blocked"' in submit_button(body)
    import html

    assert "You have used all of today's generation jobs (your plan allows 3 a day)." in html.unescape(body)


def test_use_as_avatar_with_full_actor_slots_offers_to_switch_an_actor(page_client, user, drawing_png):
    from characters.avatars.actors import create_actor

    job = create_job(user, drawing_png, filename="house.png")
    assert run(job) == "succeeded"
    first = job.avatar
    actor = create_actor(user=user, name="Streamer <b>me</b>", avatar_id=first.pk)  # the free plan's only slot
    newer = create_job(user, drawing_png, filename="house.png", name="Newer")
    assert run(newer) == "succeeded" and newer.avatar_id != first.pk
    url = reverse("generate_job_actor", kwargs={"job_id": newer.id})

    refused = page_client.post(url)  # no new actor: the switch page instead of a dead end
    assert refused.status_code == 302 and refused["Location"] == url
    page = page_client.get(url).content.decode()
    assert "actor slots are full (1 of 1)" in page and f'value="{actor.pk}"' in page
    assert "Streamer &lt;b&gt;me&lt;/b&gt;" in page and "<b>me</b>" not in page  # names are escaped

    switched = page_client.post(url, {"replace_actor": str(actor.pk)})
    assert switched.status_code == 302
    actor.refresh_from_db()
    assert actor.avatar_id == newer.avatar_id and actor.name == "Streamer <b>me</b>"
    assert Actor.objects.filter(owner=user).count() == 1


def test_switching_someone_elses_actor_is_refused(page_client, user, other_user, drawing_png):
    from characters.avatars.actors import create_actor
    from characters.avatars.services import create_avatar_from_file

    job = create_job(user, drawing_png, filename="house.png")
    assert run(job) == "succeeded"
    theirs = create_avatar_from_file(owner=other_user, file=str(FIXTURES / "vrm" / "sphere.vrm"), filename="sphere.vrm")
    their_actor = create_actor(user=other_user, name="Theirs", avatar_id=theirs.pk)
    response = page_client.post(reverse("generate_job_actor", kwargs={"job_id": job.id}), {"replace_actor": str(their_actor.pk)})
    assert response.status_code == 302 and response["Location"] == reverse("generate_job", kwargs={"job_id": job.id})
    their_actor.refresh_from_db()
    assert their_actor.avatar_id == theirs.pk
