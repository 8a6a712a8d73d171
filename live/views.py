"""Live-mode pages: the OBS overlay / avatar source (key-authorized, no login), its speech clips,
and the Chzzk account link flow."""
from __future__ import annotations

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from avatarforge.errors import AppError

from . import chzzk_link, selectors
from .runner import clip_key
from .settings_schema import effective_settings


def _avatar_for(session) -> dict:
    from chat.selectors import avatar_for_viewer

    return avatar_for_viewer(user=session.owner, character=session.character)


@require_GET
def overlay(request: HttpRequest, key: str) -> HttpResponse:
    try:
        session = selectors.session_by_overlay_key(key=key)
    except AppError:
        raise Http404 from None
    view = request.GET.get("view", "all")
    config = {
        "wsPath": f"/ws/live/overlay/{key}/",
        "clipBase": f"/live/overlay/{key}/clips/",
        "view": view if view in ("all", "chat", "avatar") else "all",
        "avatar": _avatar_for(session),
        "lerpS": effective_settings(session.settings)["lerp_s"],
        "emotionMap": effective_settings(session.settings)["emotion_map"],
        "fadeAfterS": 600,  # messages fade out after 10 minutes
        "vts": request.GET.get("vts") == "1",
        "vtsUrl": request.GET.get("vts_url", "ws://localhost:8001")[:100],
    }
    response = render(request, "live/overlay.html", {"session": session, "config": config})
    response["Referrer-Policy"] = "no-referrer"  # the key is in the URL: never leak it onwards
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def overlay_clip(request: HttpRequest, key: str, clip_id: str) -> HttpResponse:
    try:
        session = selectors.session_by_overlay_key(key=key)
    except AppError:
        raise Http404 from None
    if not clip_id.isalnum() or len(clip_id) != 32:
        raise Http404
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5)
    wav = client.get(clip_key(str(session.pk), clip_id))
    if wav is None:
        raise Http404
    response = HttpResponse(wav, content_type="audio/wav")
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@require_POST
def chzzk_link_start(request: HttpRequest) -> HttpResponse:
    url = chzzk_link.start_link(session=request.session,
                                redirect_uri=request.build_absolute_uri(reverse("live_chzzk_callback")))
    return redirect(url)


@login_required
@require_GET
def chzzk_link_callback(request: HttpRequest) -> HttpResponse:
    chzzk_link.finish_link(user=request.user, session=request.session, code=request.GET.get("code", ""),
                           state=request.GET.get("state", ""))
    return redirect("live_home")
