"""Pages of AI characters: list, detail, create (wizard or by hand), edit, delete, copy, import.

Authorization is the selectors' (404 for what you may not see, 403 for what you may only see);
writes go through persona_services; every failure is shown with its message."""
from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from avatarforge.errors import AppError, NotFound
from avatarforge.throttling import check_rate
from avatarforge.views import app_errors_as_pages

from ..models.personas import CharacterCategory, CharacterLimits
from . import moderation, selectors, services
from .api import portrait_response
from .cards import cards
from .forms import CardImportForm, CharacterForm, ReportForm, WizardStartForm
from .wizard import GENERATED_FIELDS


def _ui_language() -> str:
    return "ko" if (get_language() or "").startswith("ko") else "en"


def _form_error(form: Any, exc: AppError) -> None:
    """Show a service error on the form: per-field details where they name a field."""
    placed = False
    if isinstance(exc.details, dict):
        for name, errors in exc.details.items():
            if name in form.fields:
                for error in errors if isinstance(errors, list) else [errors]:
                    form.add_error(name, str(error))
                placed = True
    if not placed:
        form.add_error(None, f"{exc.message} ({exc.code})")


def persona_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "")[:100]
    category = request.GET.get("category", "")
    if category not in CharacterCategory.values:
        category = ""
    # Tabs: your own and featured ones (the default), every public one, only yours, presets.
    scope = request.GET.get("scope", "featured")
    if scope not in ("featured", "all", "mine", "presets"):
        scope = "featured"
    characters = selectors.listed_characters(
        user=request.user, search=search, category=category, scope=scope, preset_language=_ui_language()
    )[:200]
    drafts = selectors.user_drafts(user=request.user)[:5] if request.user.is_authenticated else []
    return render(request, "characters/persona_list.html", {
        "characters": characters, "drafts": drafts, "search": search, "category": category, "scope": scope,
        "categories": CharacterCategory.choices, "scopes": _list_scopes(request),
    })


def _list_scopes(request: HttpRequest) -> list[tuple[str, str]]:
    mine = [("mine", _("Only mine"))] if request.user.is_authenticated else []
    featured = _("Mine and featured") if request.user.is_authenticated else _("Featured")
    return [("featured", featured), ("all", _("All public")), *mine, ("presets", _("Presets"))]


@app_errors_as_pages
def persona_detail(request: HttpRequest, character_id: str) -> HttpResponse:
    character = selectors.get_visible_character(user=request.user, character_id=character_id)
    is_owner = request.user.is_authenticated and character.owner_id == request.user.pk
    can_report = request.user.is_authenticated and not is_owner and not character.is_preset
    sheet = [
        (character._meta.get_field(name).verbose_name, getattr(character, name))
        for name in ("description", "personality", "appearance", "likes", "dislikes", "speech_style", "thoughts",
                     "features", "habits", "guidelines", "worldview", "example_dialogue")
        if getattr(character, name).strip()
    ]
    profile = [
        (character._meta.get_field(name).verbose_name, getattr(character, name))
        for name in ("nickname", "source_work", "gender", "species", "age", "height", "job", "voice_id")
        if getattr(character, name).strip()
    ]
    export_url = reverse("api:character-export", args=[character.pk])
    return render(request, "characters/persona_detail.html", {
        "character": character, "is_owner": is_owner, "sheet": sheet, "profile": profile,
        "chat_url": reverse("chat_home") + f"?character={character.pk}",
        "can_report": can_report,
        "reported": can_report and selectors.has_open_report(user=request.user, character=character),
        "report_form": ReportForm() if can_report else None,
        "exports": [
            (_("Card V3 (PNG)"), f"{export_url}?format=v3&as=png"),
            (_("Card V3 (JSON)"), f"{export_url}?format=v3&as=json"),
            (_("Card V2 (PNG)"), f"{export_url}?format=v2&as=png"),
            (_("Card V2 (JSON)"), f"{export_url}?format=v2&as=json"),
        ],
    })


@app_errors_as_pages
def persona_portrait(request: HttpRequest, character_id: str) -> HttpResponse:
    character = selectors.get_visible_character(user=request.user, character_id=character_id)
    try:
        return portrait_response(character)
    except NotFound as exc:
        raise Http404(exc.message) from None


@login_required
@require_POST
@app_errors_as_pages
def persona_report(request: HttpRequest, character_id: str) -> HttpResponse:
    """Report someone else's character; the outcome is flashed on its detail page."""
    character = selectors.reportable_character(user=request.user, character_id=character_id)
    form = ReportForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(str(e) for field_errors in form.errors.values() for e in field_errors)
        messages.error(request, _("The report was not sent: %(errors)s") % {"errors": errors})
        return redirect("persona_detail", character_id=character.pk)
    try:
        moderation.report_character(user=request.user, character_id=character.pk, **form.cleaned_data)
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Thank you. Your report was sent to the moderators."))
    return redirect("persona_detail", character_id=character.pk)


@login_required
def persona_create(request: HttpRequest) -> HttpResponse:
    form = CharacterForm(request.POST or None, user=request.user, initial={"language": _ui_language()})
    if request.method == "POST" and form.is_valid():
        try:
            character = services.create_character(owner=request.user, fields=form.service_fields())
        except AppError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Character created."))
            return redirect("persona_detail", character_id=character.pk)
    return render(request, "characters/persona_form.html", {"form": form, "title": _("Create a character by hand")})


@login_required
@app_errors_as_pages
def persona_edit(request: HttpRequest, character_id: str) -> HttpResponse:
    character = selectors.get_owned_character(user=request.user, character_id=character_id)
    form = CharacterForm(request.POST or None, instance=character, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_character(user=request.user, character_id=character.pk, fields=form.service_fields())
        except AppError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Character saved."))
            return redirect("persona_detail", character_id=character.pk)
    return render(request, "characters/persona_form.html", {
        "form": form, "character": character, "title": _("Edit %(name)s") % {"name": character.name},
    })


@login_required
@app_errors_as_pages
def persona_delete(request: HttpRequest, character_id: str) -> HttpResponse:
    character = selectors.get_owned_character(user=request.user, character_id=character_id)
    if request.method == "POST":
        services.delete_character(user=request.user, character_id=character.pk)
        messages.success(request, _("Character deleted."))
        return redirect("persona_list")
    return render(request, "characters/persona_confirm_delete.html", {"character": character})


@login_required
@require_POST
@app_errors_as_pages
def persona_copy(request: HttpRequest, character_id: str) -> HttpResponse:
    source = selectors.get_visible_character(user=request.user, character_id=character_id)
    try:
        copy = services.copy_character(user=request.user, character_id=source.pk)
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect("persona_detail", character_id=source.pk)
    messages.success(request, _("Copied into your characters. You can edit the copy."))
    return redirect("persona_detail", character_id=copy.pk)


@login_required
def persona_import(request: HttpRequest) -> HttpResponse:
    form = CardImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            check_rate(request, "upload")  # decoding a card image is work: the API's rate applies
            if upload.size > cards.MAX_PNG_BYTES:
                raise cards._too_large(cards.MAX_PNG_BYTES)
            character = services.import_card(
                owner=request.user, raw=upload.read(cards.MAX_PNG_BYTES + 1), filename=upload.name or "",
                content_type=upload.content_type or "", visibility=form.cleaned_data["visibility"],
            )
        except AppError as exc:
            detail = exc.details.get("field") if isinstance(exc.details, dict) else None
            message = f"{exc.message} ({exc.code})" + (f" [{detail}]" if detail and detail not in exc.message else "")
            form.add_error("file", message)
        else:
            messages.success(request, _("Character imported."))
            return redirect("persona_detail", character_id=character.pk)
    return render(request, "characters/persona_import.html", {"form": form})


# --- wizard -------------------------------------------------------------------------------------

@login_required
def persona_wizard(request: HttpRequest) -> HttpResponse:
    """Step 1: name, category, source work. The LLM fills the rest (a synchronous request)."""
    form = WizardStartForm(request.POST or None, initial={"language": _ui_language(), "progress_id": uuid.uuid4()})
    if request.method == "POST" and form.is_valid():
        try:
            draft = services.start_wizard(owner=request.user, **form.cleaned_data)
        except AppError as exc:
            _form_error(form, exc)
        else:
            return redirect("persona_wizard_edit", draft_id=draft.pk)
    return render(request, "characters/persona_wizard_start.html", {
        "form": form, "max_generations": CharacterLimits.WIZARD_MAX_GENERATIONS,
        "progress_id": form["progress_id"].value() or uuid.uuid4(), **_progress_context(),
    })


def _progress_context() -> dict[str, Any]:
    """What _wizard_progress.html needs besides the progress id: the fields' names as the form shows them."""
    labels = {name: str(CharacterForm.base_fields[name].label) for name in GENERATED_FIELDS}
    return {"progress_labels": labels, "progress_total": len(GENERATED_FIELDS)}


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@login_required
@app_errors_as_pages
def persona_wizard_edit(request: HttpRequest, draft_id: str) -> HttpResponse:
    """Step 2: every field on one screen; save, generate again (limited) or discard."""
    draft = selectors.get_draft(user=request.user, draft_id=draft_id)
    action = request.POST.get("action", "save") if request.method == "POST" else ""
    if action == "discard":
        services.discard_wizard(user=request.user, draft_id=draft.pk)
        messages.info(request, _("Draft discarded."))
        return redirect("persona_list")
    if action == "regenerate":
        try:
            services.regenerate_wizard(
                user=request.user,
                draft_id=draft.pk,
                name=request.POST.get("name", draft.name)[:200],
                category=request.POST.get("category", draft.category)[:32],
                source_work=request.POST.get("source_work", draft.source_work)[:400],
                progress_id=_uuid_or_none(request.POST.get("progress_id")),
            )
        except AppError as exc:
            messages.error(request, f"{exc.message} ({exc.code})")
        else:
            messages.success(request, _("Generated again."))
        return redirect("persona_wizard_edit", draft_id=draft.pk)
    form = CharacterForm(request.POST or None, instance=draft, user=request.user)
    if action == "save" and form.is_valid():
        try:
            character = services.finish_wizard(user=request.user, draft_id=draft.pk, fields=form.service_fields())
        except AppError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Character created."))
            return redirect("persona_detail", character_id=character.pk)
    draft.refresh_from_db(fields=["generation_count"])
    return render(request, "characters/persona_wizard_edit.html", {
        "form": form, "draft": draft, "max_generations": CharacterLimits.WIZARD_MAX_GENERATIONS,
        "progress_id": uuid.uuid4(), **_progress_context(),
    })
