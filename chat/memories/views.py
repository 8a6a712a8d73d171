"""The page "What <character> remembers about you": see, correct and delete facts, forget all,
turn memory on or off. Plain forms (POST, CSRF), so it works without JavaScript."""
from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from avatarforge.errors import AppError
from avatarforge.korean import resolve_particles
from avatarforge.views import flash_app_error

from ..models import MAX_MEMORY_TEXT
from . import selectors, services


def _page(character_id: object) -> HttpResponse:
    return redirect("chat_memories", character_id=character_id)


@login_required
def memories(request: HttpRequest, character_id: str) -> HttpResponse:
    try:
        character = selectors.character_for_memories(user=request.user, character_id=character_id)
    except AppError as exc:
        raise Http404(exc.message) from None
    return render(request, "chat/memories.html", {
        "character": character,
        "memories": list(selectors.memories_for(user=request.user, character_id=character.pk)),
        "enabled": selectors.memory_enabled(user_id=request.user.pk, character_id=character.pk),
        "limit": services.MAX_MEMORIES,
        "max_length": MAX_MEMORY_TEXT,
        "heading": resolve_particles(_("What %(name)s remembers about you") % {"name": character.name}),
    })


def _act(request: HttpRequest, character_id: object, action: Callable[[], object], done: str) -> HttpResponse:
    """Run one change, say how it went, and show the page again."""
    try:
        action()
        messages.success(request, done)
    except AppError as exc:
        flash_app_error(request, exc)
    return _page(character_id)


@login_required
@require_POST
def edit(request: HttpRequest, character_id: str, memory_id: int) -> HttpResponse:
    text = request.POST.get("text", "")
    return _act(request, character_id, lambda: services.update_memory(user=request.user, memory_id=memory_id, text=text),
                _("Memory corrected."))


@login_required
@require_POST
def delete(request: HttpRequest, character_id: str, memory_id: int) -> HttpResponse:
    return _act(request, character_id, lambda: services.delete_memory(user=request.user, memory_id=memory_id),
                _("Memory deleted."))


@login_required
@require_POST
def forget_all(request: HttpRequest, character_id: str) -> HttpResponse:
    return _act(request, character_id, lambda: services.forget_all(user=request.user, character_id=character_id),
                _("Everything was forgotten."))


@login_required
@require_POST
def toggle(request: HttpRequest, character_id: str) -> HttpResponse:
    enabled = request.POST.get("enabled") == "on"
    return _act(request, character_id,
                lambda: services.set_memory_enabled(user=request.user, character_id=character_id, enabled=enabled),
                _("Memory is on.") if enabled else _("Memory is off. Everything was forgotten."))
