"""Pages of the avatar library (mounted at /avatars/): library grid with upload, avatar detail
with 3D preview and license card, delete confirmation, actor list and actor editor.

The upload and the editors are enhanced by ES modules (static/dist/avatar_*.js) that talk to the
REST API; every page also works as a plain form post.
"""
from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.services import usage_for
from avatarforge.errors import AppError
from avatarforge.throttling import check_rate

from ..models import Actor, Avatar
from . import actors, selectors, services
from .actor_settings import ARKIT_52, SENSITIVITY_MAX, default_settings
from .formats.vrm_meta import RANK_STAT_LABELS, RANK_THRESHOLDS
from .license_card import license_card, license_implies, license_summary
from .policy import can_use_avatar

RANK_LABELS = {
    "excellent": gettext_lazy("Excellent"), "good": gettext_lazy("Good"), "medium": gettext_lazy("Medium"), "poor": gettext_lazy("Poor"),
}


def _upload_strings() -> dict[str, str]:
    """UI strings for avatar_library.js, translated here (the JS holds no user-facing text)."""
    return {
        "uploading": _("Uploading…"),
        "processing": _("Checking the file…"),
        "done": _("Added to your library."),
        "open": _("Open"),
        "failed": _("Upload failed."),
        "network": _("The connection broke off. Check your network and try again."),
        "duplicate": _("Already in your library."),
        "overwrite": _("Overwrite"),
        "keepBoth": _("Keep both"),
        "cancel": _("Cancel"),
        "tooLarge": _("This file is larger than your plan allows."),
        "wrongType": _("Only .vrm and .glb files can be uploaded."),
    }


@login_required
def avatar_list(request: HttpRequest) -> HttpResponse:
    tab = "shared" if request.GET.get("tab") == "shared" else "mine"
    # Own avatars are bounded by the plan; the shared tab shows the 120 newest.
    avatars = selectors.shared_avatars_for(request.user)[:120] if tab == "shared" else selectors.avatars_owned_by(request.user)
    usage = {u["limit"]: u for u in usage_for(user=request.user)}
    return render(
        request,
        "characters/avatar_list.html",
        {
            "tab": tab,
            "avatars": avatars,
            "actor_usage": usage.get("actor_slots"),
            "max_bytes": request.user.plan.max_avatar_bytes,
            "rank_labels": RANK_LABELS,
            "strings": _upload_strings(),
            "upload_url": reverse("api:avatar-list"),
        },
    )


@login_required
@require_POST
def avatar_upload(request: HttpRequest) -> HttpResponse:
    """Form fallback of the upload (one file). The script on the library page uses the API."""
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a .vrm or .glb file to upload."))
        return redirect("avatar_list")
    on_conflict = request.POST.get("on_conflict") or None
    try:
        check_rate(request, "upload")  # the API's upload rate: the form is no way around it
        avatar = services.create_avatar_from_file(
            owner=request.user,
            file=upload,
            filename=upload.name or "",
            on_conflict=on_conflict if on_conflict in services.ON_CONFLICT_CHOICES else None,
            owner_is_author=request.POST.get("owner_is_author") == "on",
            owner_has_license=request.POST.get("owner_has_license") == "on",
        )
    except AppError as exc:
        hint = exc.details.get("hint") if isinstance(exc.details, dict) else None
        messages.error(request, f"{exc.message} {hint}" if hint else exc.message)
        return redirect("avatar_list")
    messages.success(request, _("“%(name)s” was added to your library.") % {"name": avatar.name})
    return redirect("avatar_detail", avatar_id=avatar.pk)


def _visible(request: HttpRequest, avatar_id: Any) -> Avatar:
    avatar = selectors.get_visible_avatar(user=request.user, avatar_id=avatar_id)
    if avatar is None:
        raise Http404
    return avatar


def _rank_rows(meta: dict[str, Any]) -> list[dict[str, Any]]:
    stats = meta.get("stats") or {}
    per_stat = meta.get("rankByStat") or {}
    rows = []
    for stat, label in RANK_STAT_LABELS.items():
        rows.append(
            {
                "key": stat,
                "label": label,
                "value": stats.get(stat, 0),
                "rank": per_stat.get(stat, ""),
                "rank_label": RANK_LABELS.get(per_stat.get(stat, ""), ""),
                "limits": [RANK_THRESHOLDS[r][stat] for r in ("excellent", "good", "medium")],
                "is_bytes": stat == "textureMemoryBytes",
            }
        )
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def avatar_detail(request: HttpRequest, avatar_id: Any) -> HttpResponse:
    avatar = _visible(request, avatar_id)
    is_owner = avatar.owner_id == request.user.pk
    if request.method == "POST":
        if not is_owner:
            raise Http404
        try:
            services.update_avatar(
                user=request.user,
                avatar_id=avatar.pk,
                name=request.POST.get("name", avatar.name),
                is_shared=request.POST.get("is_shared") == "on",
                owner_is_author=request.POST.get("owner_is_author") == "on",
                owner_has_license=request.POST.get("owner_has_license") == "on",
            )
        except AppError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Saved."))
        return redirect("avatar_detail", avatar_id=avatar.pk)
    meta = avatar.meta or {}
    expressions = meta.get("expressions") or {}
    can_use, use_reason = can_use_avatar(user=request.user, avatar=avatar)
    return render(
        request,
        "characters/avatar_detail.html",
        {
            "avatar": avatar,
            "is_owner": is_owner,
            "meta": meta,
            "card": license_card(meta),
            "license": license_summary(meta),
            "license_implies": license_implies(meta),
            "warnings": selectors.warnings_for(avatar),
            "rank_rows": _rank_rows(meta),
            "rank_label": RANK_LABELS.get(avatar.performance_rank, ""),
            "bones": sorted((meta.get("humanoid") or {}).get("bones", {}).keys()),
            "expressions": expressions,
            "actors": selectors.actors_using(avatar) if is_owner else [],
            "can_use": can_use,
            "use_reason": use_reason,
            "viewer_config": {
                "url": reverse("api:avatar-file", kwargs={"avatar_id": avatar.pk}),
                "expressions": list(expressions.get("presets", [])) + list(expressions.get("custom", [])),
                "strings": {"loading": _("Loading the 3D preview…"), "failed": _("The 3D preview could not be shown in this browser.")},
            },
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def avatar_delete(request: HttpRequest, avatar_id: Any) -> HttpResponse:
    avatar = _visible(request, avatar_id)
    if avatar.owner_id != request.user.pk:
        raise Http404
    if request.method == "POST":
        try:
            services.delete_avatar(user=request.user, avatar_id=avatar.pk)
        except AppError as exc:
            messages.error(request, exc.message)
            return redirect("avatar_delete", avatar_id=avatar.pk)
        messages.success(request, _("“%(name)s” was deleted.") % {"name": avatar.name})
        return redirect("avatar_list")
    return render(request, "characters/avatar_delete.html", {"avatar": avatar, "actors": selectors.actors_using(avatar)})


# --- actors -----------------------------------------------------------------------------------


def _actor_context(request: HttpRequest) -> dict[str, Any]:
    usage = {u["limit"]: u for u in usage_for(user=request.user)}
    return {
        "actors": selectors.actors_for(request.user),
        "usable_avatars": selectors.avatars_usable_by(request.user).filter(owner=request.user).order_by("name"),
        "actor_usage": usage.get("actor_slots"),
    }


@login_required
@require_http_methods(["GET", "POST"])
def actor_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            actor = actors.create_actor(
                user=request.user, name=request.POST.get("name", ""), avatar_id=request.POST.get("avatar") or None
            )
        except AppError as exc:
            messages.error(request, exc.message)
            return redirect("actor_list")
        messages.success(request, _("Actor “%(name)s” created.") % {"name": actor.name})
        return redirect("actor_edit", actor_id=actor.pk)
    return render(request, "characters/actor_list.html", _actor_context(request))


def _own_actor(request: HttpRequest, actor_id: int) -> Actor:
    actor = selectors.actors_for(request.user).filter(pk=actor_id).first()
    if actor is None:
        raise Http404
    return actor


def _settings_from_post(request: HttpRequest, current: dict[str, Any]) -> dict[str, Any]:
    """Sliders and checkboxes are plain fields; curves and shortcuts come as JSON (kept in sync
    by the editor script, editable by hand without it)."""
    data: dict[str, Any] = {
        "faceTracking": request.POST.get("faceTracking") == "on",
        "bodyTracking": request.POST.get("bodyTracking") == "on",
        "handTracking": request.POST.get("handTracking") == "on",
        "mirror": request.POST.get("mirror") == "on",
        "sensitivity": {},
    }
    for key in ("bodySensitivity", "handSensitivity"):
        raw = request.POST.get(key)
        try:
            data[key] = float(raw) if raw is not None else current.get(key, 1.0)
        except (TypeError, ValueError):
            data[key] = raw  # the validator reports it
    for key in ("gaze", "eyebrows", "mouth"):
        raw = request.POST.get(f"sensitivity_{key}")
        try:
            data["sensitivity"][key] = float(raw) if raw is not None else current["sensitivity"][key]
        except (TypeError, ValueError):
            data["sensitivity"][key] = raw  # the validator reports it
    for key in ("curves", "shortcuts"):
        raw = request.POST.get(key)
        if raw is None:
            data[key] = current.get(key)
            continue
        try:
            data[key] = json.loads(raw[:100_000]) if raw.strip() else ({} if key == "curves" else [])
        except ValueError:
            data[key] = raw  # not JSON: the validator answers "must be an object/list"
    return data


@login_required
@require_http_methods(["GET", "POST"])
def actor_edit(request: HttpRequest, actor_id: int) -> HttpResponse:
    actor = _own_actor(request, actor_id)
    errors: dict[str, str] = {}
    current = {**default_settings(), **(actor.settings or {})}
    if request.method == "POST":
        try:
            actors.update_actor(
                user=request.user,
                actor_id=actor.pk,
                name=request.POST.get("name", actor.name),
                avatar_id=request.POST.get("avatar") or None,
                settings_data=_settings_from_post(request, current),
            )
        except AppError as exc:
            messages.error(request, exc.message)
            errors = exc.details if isinstance(exc.details, dict) else {}
        else:
            messages.success(request, _("Saved."))
            return redirect("actor_edit", actor_id=actor.pk)
    meta = actor.avatar.meta or {}
    expressions = meta.get("expressions") or {}
    context = _actor_context(request)
    context.update(
        actor=actor,
        current=current,
        errors=errors,
        sensitivity_max=SENSITIVITY_MAX,
        curves_json=json.dumps(current.get("curves", {}), indent=1),
        shortcuts_json=json.dumps(current.get("shortcuts", []), indent=1),
        editor_config={
            "url": reverse("api:avatar-file", kwargs={"avatar_id": actor.avatar_id}),
            "arkit": ARKIT_52,
            "expressions": list(expressions.get("presets", [])) + list(expressions.get("custom", [])),
            "strings": {
                "addCurve": _("Add curve"),
                "remove": _("Remove"),
                "input": _("Input"),
                "output": _("Output"),
                "gamma": _("Shape"),
                "inMin": _("Input from"),
                "inMax": _("Input to"),
                "outMin": _("Output from"),
                "outMax": _("Output to"),
                "key": _("Key"),
                "label": _("Label"),
                "pressKey": _("Press a key…"),
                "addShortcut": _("Add shortcut"),
                "addWeight": _("Add expression"),
                "test": _("Try"),
                "noCurves": _("No curves: every blendshape passes through unchanged."),
                "noShortcuts": _("No shortcuts yet."),
                "example": _("an input of %(in)s gives %(out)s"),
                "loading": _("Loading the 3D preview…"),
                "failed": _("The 3D preview could not be shown in this browser."),
                "liveStart": _("Preview with my camera"),
                "liveStop": _("Stop the camera preview"),
                "liveStarting": _("Starting the camera and face tracker…"),
                "liveOn": _("Following your face."),
                "liveNoFace": _("No face in view."),
                "liveFailed": _("The camera or face tracker could not start: allow the camera for this site and try again."),
                "rates": _("Face tracking: %(face)s · body: %(body)s · hands: %(hands)s"),
                "fps": _("%(n)s fps"),
                "trackerOff": _("off"),
                "trackerLoading": _("loading…"),
                "bodyFailed": _("Body or hand tracking could not start in this browser."),
            },
        },
    )
    return render(request, "characters/actor_edit.html", context)


@login_required
@require_POST
def actor_delete(request: HttpRequest, actor_id: int) -> HttpResponse:
    actor = _own_actor(request, actor_id)
    actors.delete_actor(user=request.user, actor_id=actor.pk)
    messages.success(request, _("Actor “%(name)s” deleted.") % {"name": actor.name})
    return redirect("actor_list")
