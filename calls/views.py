"""The character page's Call button: start the call, then open the room's call page."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from avatarforge.errors import AppError
from avatarforge.views import flash_app_error

from . import services
from .api import peer_base_url


@login_required
@require_POST
def start_call(request: HttpRequest, character_id: str) -> HttpResponse:
    try:
        started = services.start_character_call(user=request.user, character_id=character_id, base_url=peer_base_url(request))
    except AppError as exc:
        flash_app_error(request, exc)  # someone else's private character: 404, as on the API
        return redirect("persona_detail", character_id=character_id)
    return redirect(started.room.get_absolute_url() + "?character_call=1")
