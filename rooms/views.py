"""Pages of rooms: home (create, join by code, your rooms), the lobby (who is waiting, invite,
close), the call page (templates/rooms/call.html, the browser side's), and guest invites."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from avatarforge.errors import AppError
from avatarforge.throttling import check_rate
from avatarforge.views import flash_app_error

from . import selectors, services
from .ice import ice_servers_for
from .models import Room, normalize_code
from .selectors import Participant


def _room_or_404(code: str) -> Room:
    room = selectors.room_by_code(code)
    if room is None:
        raise Http404(_("No room has this code."))
    return room


def _participant_or_login(request: HttpRequest, room: Room) -> Participant | HttpResponse:
    participant = selectors.participant_for(room=room, user=request.user, session=request.session)
    if participant is None:
        return redirect(f"{reverse('login')}?next={request.path}")
    return participant


def home(request: HttpRequest) -> HttpResponse:
    rooms = []
    if request.user.is_authenticated:
        rooms = [
            {"room": room, "participants": selectors.participants_now(room)}
            for room in selectors.open_rooms_of(user_id=request.user.pk).select_related("owner")[:50]
        ]
    return render(request, "rooms/home.html", {"rooms": rooms, "max_rooms": services.MAX_OPEN_ROOMS_PER_USER})


@login_required
@require_POST
def create(request: HttpRequest) -> HttpResponse:
    try:
        check_rate(request, "auth")  # the room API's rate
        room = services.create_room(owner=request.user, title=request.POST.get("title", ""))
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect("room_home")
    return redirect("room_lobby", code=room.code)


@require_GET
def join_by_code(request: HttpRequest) -> HttpResponse:
    code = normalize_code(request.GET.get("code", ""))
    room = selectors.room_by_code(code) if code else None
    if room is None:
        messages.error(request, _("No room has this code. Check it and try again."))
        return redirect("room_home")
    if not room.is_open:
        messages.error(request, _("This room has been closed or has expired."))
        return redirect("room_home")
    return redirect("room_lobby", code=room.code)


def lobby(request: HttpRequest, code: str) -> HttpResponse:
    room = _room_or_404(code)
    participant = _participant_or_login(request, room)
    if isinstance(participant, HttpResponse):
        return participant
    context = {
        "room": room,
        "participant": participant,
        "is_owner": participant.is_owner,
        "participants": selectors.participants_now(room) if room.is_open else [],
        "share_url": request.build_absolute_uri(room.get_absolute_url()),
        "invite_url": request.session.pop("rooms_last_invite_url", None) if participant.is_owner else None,
    }
    return render(request, "rooms/lobby.html", context)


@require_GET
def status(request: HttpRequest, code: str) -> HttpResponse:
    """The lobby's live list of who is waiting (polled by rooms_lobby.js)."""
    room = _room_or_404(code)
    if selectors.participant_for(room=room, user=request.user, session=request.session) is None:
        return JsonResponse({"code": "not_authenticated", "message": _("Sign in first."), "details": None}, status=401)
    participants = selectors.participants_now(room) if room.is_open else []
    return JsonResponse({"is_open": room.is_open, "participants": participants})


@login_required
@require_POST
def invite(request: HttpRequest, code: str) -> HttpResponse:
    room = _room_or_404(code)
    try:
        check_rate(request, "auth")  # the invite API's rate
        _invite, token = services.create_invite(room=room, user=request.user)
    except AppError as exc:
        flash_app_error(request, exc)
        return redirect("room_lobby", code=room.code)
    # Shown once on the lobby (post/redirect/get keeps the secret link out of the browser history).
    request.session["rooms_last_invite_url"] = request.build_absolute_uri(reverse("room_invite", args=[token]))
    messages.success(request, _("Invite link created. It works once."))
    return redirect("room_lobby", code=room.code)


@login_required
@require_POST
def close(request: HttpRequest, code: str) -> HttpResponse:
    room = _room_or_404(code)
    try:
        services.close_room(room_id=room.pk, user=request.user)
    except AppError as exc:
        flash_app_error(request, exc)
        return redirect("room_lobby", code=room.code)
    messages.success(request, _("The room is closed."))
    return redirect("room_home")


def call(request: HttpRequest, code: str) -> HttpResponse:
    room = _room_or_404(code)
    participant = _participant_or_login(request, room)
    if isinstance(participant, HttpResponse):
        return participant
    if not room.is_open:
        messages.error(request, _("This room has been closed or has expired."))
        return redirect("room_home")
    context = {
        "room": room,
        "ws_path": room.ws_path,
        "ice_servers": ice_servers_for(subject=participant.turn_subject),
        "is_owner": participant.is_owner,
        "guest_name": participant.name if participant.is_guest else None,
        "practice_url": reverse("api:room-practice", args=[room.code]),
        "lobby_url": reverse("room_lobby", args=[room.code]),
        "call_actors": _call_actors(request.user),
        "license_text": _license_text(),
    }
    return render(request, "rooms/call.html", context)


def _license_text() -> dict:
    """The license card's words in this page's language: the other person's card is shown in
    them (their page sends row keys and codes; its own words are only the fallback)."""
    from characters.avatars.license_card import license_card_text

    return license_card_text()


@login_required
@require_GET
def stream(request: HttpRequest) -> HttpResponse:
    """Stream mode: only your avatar, tracked from your camera, on a transparent page for an OBS
    browser source. The avatar is `?avatar=` (builtin:<key> or actor:<id>) or your call choice."""
    return render(request, "rooms/stream.html", {
        "call_actors": _call_actors(request.user),
        "avatar_choice": request.GET.get("avatar", "")[:64],
    })


def _call_actors(user) -> list[dict]:
    """The user's actors whose avatar the license lets them use in a call, with the avatar card
    (file URL, fileHash, license card) and tracker settings, for the call page's avatar picker."""
    if not user.is_authenticated:
        return []
    from characters.avatars.policy import can_use_avatar
    from characters.avatars.selectors import actors_for, avatar_card

    return [
        {"id": actor.pk, "name": actor.name, "settings": actor.settings, "avatar": avatar_card(actor.avatar)}
        for actor in actors_for(user)[:50]
        if can_use_avatar(user=user, avatar=actor.avatar)[0]
    ]


def redeem(request: HttpRequest, token: str) -> HttpResponse:
    """Guest invite page: a display name, then a seat right in this browser's session."""
    error = None
    name = request.POST.get("name", "") if request.method == "POST" else ""
    try:
        services.check_invite(token=token)
    except AppError as exc:
        # A used, expired or forged link, or a closed room: say so now, with no form to fill in.
        return render(request, "rooms/invite.html", {"error": exc.message, "unusable": True}, status=exc.status)
    if request.method == "POST":
        try:
            room, guest = services.redeem_invite(token=token, name=name)
        except AppError as exc:
            error = exc.message
        else:
            services.remember_guest(session=request.session, room_code=room.code, guest=guest)
            return redirect("room_lobby", code=room.code)
    return render(request, "rooms/invite.html", {"error": error, "name": name}, status=400 if error else 200)
