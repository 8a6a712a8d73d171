"""Live-mode pages: the streamer's dashboard (session list and one session's controls), the OBS
overlay / avatar source (key-authorized, no login), its speech clips, and the Chzzk account link
flow. Live controls (start, pause, say, test chat...) are REST calls from the dashboard's script;
the forms here (create, settings, unlink) are plain POSTs that work without it."""
from __future__ import annotations

import redis
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from avatarforge.errors import AppError
from avatarforge.views import flash_app_error

from . import chzzk_link, chzzk_oauth, selectors, services
from .models import ChzzkAccount, Platform, SessionStatus
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
    try:
        url = chzzk_link.start_link(session=request.session,
                                    redirect_uri=request.build_absolute_uri(reverse("live_chzzk_callback")))
    except AppError as exc:
        flash_app_error(request, exc)
        return redirect("live_home")
    return redirect(url)


@login_required
@require_GET
def chzzk_link_callback(request: HttpRequest) -> HttpResponse:
    try:
        account = chzzk_link.finish_link(user=request.user, session=request.session, code=request.GET.get("code", ""),
                                         state=request.GET.get("state", ""))
    except AppError as exc:
        flash_app_error(request, exc)
    else:
        messages.success(request, _("Chzzk channel “%(name)s” is linked.") % {"name": account.channel_name or account.channel_id})
    return redirect("live_home")


@login_required
@require_POST
def chzzk_unlink(request: HttpRequest) -> HttpResponse:
    if chzzk_link.unlink(user=request.user):
        messages.success(request, _("Your Chzzk channel is unlinked."))
    return redirect("live_home")


# --- the streamer's dashboard ------------------------------------------------------------------------
@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    from characters.personas.selectors import listed_characters

    return render(request, "live/home.html", {
        "sessions": selectors.sessions_of(user=request.user).select_related("character"),
        "characters": list(listed_characters(user=request.user)[:200]),
        "platforms": Platform.choices,
        "chzzk_configured": chzzk_oauth.configured(),
        "chzzk_account": ChzzkAccount.objects.filter(user=request.user).first(),
    })


@login_required
@require_POST
def create(request: HttpRequest) -> HttpResponse:
    try:
        session = services.create_session(user=request.user, title=request.POST.get("title", "").strip()[:100],
                                           character_id=request.POST.get("character", ""),
                                           platform=request.POST.get("platform", Platform.TEST))
    except AppError as exc:
        flash_app_error(request, exc)
        return redirect("live_home")
    return redirect("live_session", session_id=session.pk)


def _owned_or_404(request: HttpRequest, session_id) -> object:
    try:
        return selectors.owned_session(user=request.user, session_id=session_id)
    except AppError as exc:
        raise Http404(exc.message) from None


def _overlay_urls(request: HttpRequest, key: str) -> list[dict]:
    base = request.build_absolute_uri(reverse("live_overlay", kwargs={"key": key}))
    return [
        {"id": "all", "label": _("Chat and avatar"), "url": base},
        {"id": "chat", "label": _("Chat only"), "url": base + "?view=chat"},
        {"id": "avatar", "label": _("Avatar only (OBS source)"), "url": base + "?view=avatar"},
        {"id": "vts", "label": _("VTube Studio driver"), "url": base + "?view=chat&vts=1"},
    ]


@login_required
@require_GET
def detail(request: HttpRequest, session_id) -> HttpResponse:
    session = _owned_or_404(request, session_id)
    current = effective_settings(session.settings)
    config = {
        "sessionId": str(session.pk),
        "wsPath": f"/ws/live/sessions/{session.pk}/",
        "api": f"/api/live/sessions/{session.pk}",
        "viewersApi": "/api/live/viewers",
        "status": session.status,
        "paused": session.ai_paused,
        "platform": session.platform,
        # What the dashboard's script writes into the page, in the page's language.
        "strings": {
            "connected": _("connected"),
            "reconnecting": _("reconnecting…"),
            "closed": _("connection closed"),
            "statuses": {value: str(label) for value, label in SessionStatus.choices},
            # The live log's sentences (frontend/src/live/dashboard.js LOG_WORDS): {name}s are filled in there.
            "log": {
                "queued": _("queued"),
                "skipped": _("skipped ({reason})"),
                "queue": _("queue {n}"),
                "chosen": _("answering {n} message(s): {prompt}"),
                "reply": _("said: {text}"),
                "emergency_stop": _("emergency stop, {n} queued message(s) dropped"),
                "reasons": {
                    "too_short": _("too short"), "banned_word": _("banned word"), "link": _("link"),
                    "flood": _("flood"), "rate": _("too many from this viewer"), "repeat": _("repeated"),
                    "streamer": _("the streamer's own message"),
                },
            },
        },
    }
    return render(request, "live/detail.html", {
        "session": session, "settings": current, "banned_words": ", ".join(current["banned_words"]),
        "overlay_urls": _overlay_urls(request, session.overlay_key), "config": config,
        "viewers": selectors.viewer_memories(user=request.user, platform=session.platform).order_by("-last_seen")[:100],
    })


SETTINGS_INTS = ("min_length", "viewer_max_per_minute", "repeat_window", "queue_size", "batch_size", "retention_days")
SETTINGS_FLOATS = ("reply_pace_s", "quiet_s")
SETTINGS_BOOLS = ("ignore_streamer", "block_links", "keep_talking", "memory_enabled")


@login_required
@require_POST
def update_settings(request: HttpRequest, session_id) -> HttpResponse:
    session = _owned_or_404(request, session_id)  # ownership before validation
    values = dict(session.settings)
    errors = []
    for name, kind in [*((n, int) for n in SETTINGS_INTS), *((n, float) for n in SETTINGS_FLOATS)]:
        raw = request.POST.get(name, "").strip()
        if raw:
            try:
                values[name] = kind(raw)
            except ValueError:
                errors.append(name)
    for name in SETTINGS_BOOLS:
        values[name] = name in request.POST
    words = [w.strip() for w in request.POST.get("banned_words", "").replace("\n", ",").split(",")]
    values["banned_words"] = [w for w in words if w][:200]
    if errors:
        messages.error(request, _("Enter numbers in: %(fields)s.") % {"fields": ", ".join(errors)})
        return redirect("live_session", session_id=session.pk)
    try:
        services.update_session(user=request.user, session_id=session.pk, settings=values,
                                hide_streamer_chat="hide_streamer_chat" in request.POST)
    except AppError as exc:
        flash_app_error(request, exc)
    else:
        messages.success(request, _("Settings saved; a running session uses them at once."))
    return redirect("live_session", session_id=session.pk)
