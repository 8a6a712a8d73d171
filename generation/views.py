"""Pages of avatar generation: upload (with the user's jobs), the job page (live progress, previews,
cancel/retry, crop adjuster, 3D result) and form posts that work without JavaScript."""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from accounts.services import usage_for
from avatarforge.errors import AppError
from avatarforge.throttling import check_rate
from avatarforge.views import app_errors_as_pages, flash_app_error

from . import selectors, services
from .api import read_upload
from .conf import setting
from .models import JobStatus
from .serializers import (
    AVATAR_PERMISSION_CHOICES,
    BUILD_CHOICES,
    COLOR_PARTS,
    COMMERCIAL_CHOICES,
    CREDIT_CHOICES,
    EYE_SHAPE_CHOICES,
    HAIR_STYLE_CHOICES,
    HEADS_DEFAULT,
    HEADS_MAX,
    HEADS_MIN,
    MODIFICATION_CHOICES,
    OUTFIT_CHOICES,
    STYLE_CHOICES,
    CropSerializer,
    clean_options,
    status_payload,
    summary_payload,
)
from .stages.palette import DEFAULTS as DEFAULT_COLOURS

LICENSE_FLAGS = [
    ("allow_redistribution", gettext_lazy("Others may redistribute the file")),
    ("allow_violent", gettext_lazy("Allow excessively violent use")),
    ("allow_sexual", gettext_lazy("Allow excessively sexual use")),
    ("allow_political", gettext_lazy("Allow political or religious use")),
    ("allow_antisocial", gettext_lazy("Allow antisocial or hate use")),
]



def options_from_form(post: Any) -> dict[str, Any]:
    """The upload form's fields as the API's options object (validated by the same serializer)."""
    raw: dict[str, Any] = {
        "name": post.get("name", ""),
        "style": post.get("style") or None,
        "heads": post.get("heads") or None,
        "build": post.get("build") or None,
        "license": {
            "avatar_permission": post.get("avatar_permission") or "onlyAuthor",
            "commercial_usage": post.get("commercial_usage") or "personalNonProfit",
            "credit_notation": post.get("credit_notation") or "required",
            "modification": post.get("modification") or "prohibited",
            **{flag: post.get(flag) == "on" for flag, _label in LICENSE_FLAGS},
        },
    }
    colours = {part: post.get(f"color_{part}") for part, _label in COLOR_PARTS if post.get(f"pick_{part}") == "on"}
    if colours:
        raw["colors"] = colours
    return clean_options({k: v for k, v in raw.items() if v is not None})


def _flatten(details: Any, prefix: str = "") -> list[str]:
    """Validation details ({"license": {"modification": ["…"]}}) as "license.modification: …" lines."""
    if isinstance(details, dict):
        return [line for key, value in details.items() for line in _flatten(value, f"{prefix}{key}.")]
    if isinstance(details, list):
        return [line for item in details for line in _flatten(item, prefix)]
    return [f"{prefix.rstrip('.')}: {details}"]


def _row(job: Any) -> dict[str, Any]:
    row = summary_payload(job)
    row["job"] = job
    row["duration_s"] = None if row["duration_ms"] is None else row["duration_ms"] / 1000.0
    return row


def _form_context(request: HttpRequest, posted: dict[str, Any] | None = None, errors: Any = None) -> dict[str, Any]:
    jobs = Paginator(selectors.jobs_for(user=request.user), 20).get_page(request.GET.get("page"))
    usage = {u["limit"]: u for u in usage_for(user=request.user)}
    return {
        "jobs": jobs,
        "rows": [_row(job) for job in jobs],
        "styles": STYLE_CHOICES,
        "builds": BUILD_CHOICES,
        "heads": {"min": HEADS_MIN, "max": HEADS_MAX, "default": HEADS_DEFAULT},
        "colour_parts": [(part, label, DEFAULT_COLOURS[part]) for part, label in COLOR_PARTS],
        "permissions": AVATAR_PERMISSION_CHOICES,
        "commercial": COMMERCIAL_CHOICES,
        "credits": CREDIT_CHOICES,
        "modifications": MODIFICATION_CHOICES,
        "license_flags": LICENSE_FLAGS,
        "posted": posted or {},
        "errors": errors,
        "max_upload_bytes": setting("GENERATION_MAX_UPLOAD_BYTES"),
        "jobs_usage": usage.get("generation_jobs_per_day"),
        "avatar_usage": usage.get("avatar_slots"),
        "blocked_reason": _blocked_reason(usage),
    }


def _blocked_reason(usage: dict[str, dict[str, Any]]) -> str | None:
    """Why a new job would be refused right now (the same limits create_job takes), so the form
    says it before the photo is uploaded; None when a job can start."""
    jobs = usage.get("generation_jobs_per_day")
    if jobs and jobs["used"] >= jobs["allowed"]:
        return ngettext(
            "You have used today's generation job (your plan allows %(n)d a day). You can make another tomorrow.",
            "You have used all of today's generation jobs (your plan allows %(n)d a day). You can make more tomorrow.",
            jobs["allowed"],
        ) % {"n": jobs["allowed"]}
    avatars = usage.get("avatar_slots")
    if avatars and avatars["used"] >= avatars["allowed"]:
        return _(
            "Your avatar library is full (%(used)d of %(allowed)d), so a new avatar could not be added. Delete one first."
        ) % {"used": avatars["used"], "allowed": avatars["allowed"]}
    return None


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The upload form and the user's jobs. POST creates a job and opens its page."""
    if request.method == "POST":
        try:
            check_rate(request, "upload")  # the API's upload rate: the form is no way around it
            photo = read_upload(request.FILES.get("image"))
            options = options_from_form(request.POST)
            job = services.create_job(owner=request.user, photo=photo, filename=getattr(request.FILES.get("image"), "name", ""), options=options)
        except AppError as exc:
            messages.error(request, exc.message)
            problems = _flatten(exc.details) if exc.code == "invalid" else None
            return render(request, "generation/home.html", _form_context(request, request.POST, problems), status=exc.status)
        return redirect("generate_job", job_id=job.id)
    return render(request, "generation/home.html", _form_context(request))


def _links() -> dict[str, str]:
    links = {"library": reverse("avatar_list")}
    try:
        links["actors"] = reverse("actor_list")
    except NoReverseMatch:
        pass
    return links


def _retry_labels() -> dict[str, str]:
    """The retry button's words by job status: a cancelled job failed at no step."""
    return {"failed": _("Retry from the failed step"), "cancelled": _("Continue from where it stopped")}


@login_required
@app_errors_as_pages
def job_detail(request: HttpRequest, job_id: Any) -> HttpResponse:
    job = selectors.job_for(user=request.user, job_id=job_id)
    payload = status_payload(job)
    strings = {
        "cancel_failed": _("Could not cancel the job."),
        "retry_failed": _("Could not retry the job."),
        "retry_labels": _retry_labels(),
        "connection_lost": _("Live updates paused; checking every few seconds."),
        "loading_model": _("Loading the 3D model…"),
        "model_failed": _("The 3D viewer could not load the model in this browser."),
        "no_webgl": _("This browser cannot show 3D (WebGL is off). Download the VRM file instead."),
        "recrop_failed": _("Could not start a job with this crop."),
        "actor_created": _("Actor created."),
        "ms": _("%(ms)s ms"),
        "preview_alt": _("Preview: %(step)s"),
        "photo_alt": _("Your photo"),
        "statuses": {value: str(label) for value, label in JobStatus.choices},
        "creator_unavailable": _("The avatar's parameters are not available for this job."),
        "creator_previewing": _("Updating the preview…"),
        "creator_saving": _("Starting a new version…"),
        "creator_failed": _("Could not update the avatar. Try again."),
    }
    context = {
        "job": job,
        "payload": payload,
        "payload_json": payload,
        "crop": payload["face"]["crop"] or {"x": 0.5, "y": 0.45, "size": 0.9},
        "strings_json": strings,
        "retry_labels": strings["retry_labels"],
        "links": _links(),
        # VRM presets with their words; the mouth shapes keep their vowel names (aa ih ou ee oh).
        "expressions": [("happy", _("Happy")), ("angry", _("Angry")), ("sad", _("Sad")), ("surprised", _("Surprised")),
                        ("relaxed", _("Relaxed")), ("blink", _("Blink"))] + [(v, v) for v in ("aa", "ih", "ou", "ee", "oh")],
        "clips": [("idle", _("Idle")), ("talk", _("Talk")), ("wave", _("Wave"))],
        "hair_styles": HAIR_STYLE_CHOICES,
        "eye_shapes": EYE_SHAPE_CHOICES,
        "outfits": OUTFIT_CHOICES,
        "builds": BUILD_CHOICES,
        "creator_colours": [("hair_color", _("Hair")), ("skin", _("Skin")), ("eye_color", _("Eyes")),
                            ("top", _("Top")), ("bottom", _("Trousers")), ("shoes", _("Shoes"))],
    }
    return render(request, "generation/job.html", context)


def _run_action(request: HttpRequest, action, job_id: Any, success: str) -> HttpResponse:
    try:
        action(user=request.user, job_id=job_id)
        messages.success(request, success)
    except AppError as exc:
        flash_app_error(request, exc)
    return redirect("generate_job", job_id=job_id)


@login_required
@require_POST
@app_errors_as_pages
def job_cancel(request: HttpRequest, job_id: Any) -> HttpResponse:
    return _run_action(request, services.cancel_job, job_id, _("Cancelling the job."))


@login_required
@require_POST
@app_errors_as_pages
def job_retry(request: HttpRequest, job_id: Any) -> HttpResponse:
    return _run_action(request, services.retry_job, job_id, _("The job continues from the step that failed."))


@login_required
@require_POST
@app_errors_as_pages
def job_delete(request: HttpRequest, job_id: Any) -> HttpResponse:
    try:
        services.delete_job(user=request.user, job_id=job_id)
    except AppError as exc:
        flash_app_error(request, exc)
        return redirect("generate_job", job_id=job_id)
    messages.success(request, _("Job deleted. The avatar it made stays in your library."))
    return redirect("generate_home")


@login_required
@require_POST
@app_errors_as_pages
def job_recrop(request: HttpRequest, job_id: Any) -> HttpResponse:
    try:
        crop = {key: float(request.POST.get(key, "")) for key in ("x", "y", "size")}
        serializer = CropSerializer(data=crop)
        if not serializer.is_valid():
            raise AppError(_("The crop is outside the photo."), code="invalid", details=serializer.errors)
        job = services.rerun_with_crop(user=request.user, job_id=job_id, crop=dict(serializer.validated_data))
    except ValueError:
        messages.error(request, _("The crop is outside the photo."))
        return redirect("generate_job", job_id=job_id)
    except AppError as exc:
        flash_app_error(request, exc)
        return redirect("generate_job", job_id=job_id)
    return redirect("generate_job", job_id=job.id)


@login_required
@app_errors_as_pages
def job_actor(request: HttpRequest, job_id: Any) -> HttpResponse:
    """“Use as my avatar”: make an actor (the avatar plus tracker settings) for calls. When the
    plan's actor slots are full, the GET page offers to switch one of the user's actors to it."""
    job = selectors.job_for(user=request.user, job_id=job_id)  # ownership first
    if job.avatar is None:
        messages.error(request, _("This job has no avatar in your library yet."))
        return redirect("generate_job", job_id=job_id)
    if request.method == "GET":
        return _actor_switch_page(request, job)
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    replace = request.POST.get("replace_actor")
    try:
        replace_id = int(replace) if replace else None
    except ValueError:
        replace_id = 0  # not an id of any actor: answered as "no such actor"
    try:
        actor, switched = services.use_as_actor(user=request.user, job_id=job_id, replace_actor_id=replace_id)
    except AppError as exc:
        if exc.code == "actor_slots_exceeded":
            return redirect("generate_job_actor", job_id=job_id)  # the page that offers a switch
        messages.error(request, exc.message)
        return redirect("generate_job", job_id=job_id)
    if switched:
        messages.success(request, _("“%(actor)s” now uses “%(name)s”: pick it when you start a call.") % {"actor": actor.name, "name": job.avatar.name})
    else:
        messages.success(request, _("“%(name)s” is now one of your actors: pick it when you start a call.") % {"name": job.avatar.name})
    links = _links()
    return redirect(links.get("actors", links["library"]))


def _actor_switch_page(request: HttpRequest, job) -> HttpResponse:
    from characters.models import Actor

    actors = list(Actor.objects.filter(owner=request.user).select_related("avatar").order_by("created_at", "id"))
    usage = next((row for row in usage_for(user=request.user) if row["limit"] == "actor_slots"), {"used": len(actors), "allowed": 0})
    return render(request, "generation/actor_switch.html", {
        "job": job, "actors": actors, "usage": usage, "links": _links(), "full": usage["used"] >= usage["allowed"],
    })
