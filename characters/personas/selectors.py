"""Reads for AI characters, with authorization built in.

Who sees what:
- public: listed and readable by everybody (presets are public rows without an owner);
- unlisted: readable by anybody who has the id or link, never listed to others;
- private: only the owner. Anybody else gets 404 `not_found`, as if it did not exist.
Wizard drafts are only reachable through the wizard, by their owner.
A character an admin hid (hidden_at set) is, for everybody but its owner, as if private: gone from
lists and detail, and nobody else can start or continue a chat with it (chat asks this module).
Only the owner changes a character: others who can see it get 403, others 404.
"""
from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from avatarforge.errors import Forbidden, NotFound

from ..models import Character, CharacterReport, ReportStatus
from ..models.personas import CharacterVisibility


def _user_id(user: Any) -> int | None:
    return user.pk if user is not None and user.is_authenticated else None


def _parse_id(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


# List scopes: "featured" (the default: your own plus those admins feature, presets included),
# "all" (your own plus every public one), "mine", "public", "presets".
LIST_SCOPES: tuple[str, ...] = ("featured", "all", "mine", "public", "presets")


def _visible_to_others() -> Q:
    return Q(hidden_at__isnull=True)


def listed_characters(
    *,
    user: Any,
    search: str = "",
    category: str = "",
    scope: str = "featured",
    language: str = "",
    preset_language: str = "",
) -> QuerySet[Character]:
    """The user's own characters plus public ones (presets included) that no admin hid.

    scope: one of LIST_SCOPES. `language` filters everything;
    `preset_language` shows presets only in that language (pages use the UI language, so each
    preset appears once)."""
    uid = _user_id(user)
    visible = Q(visibility=CharacterVisibility.PUBLIC) & _visible_to_others()
    if uid is not None:
        visible |= Q(owner_id=uid)
    qs = Character.objects.filter(visible, is_draft=False).select_related("owner", "avatar")
    if scope == "featured":
        qs = qs.filter(Q(featured=True) | Q(owner_id=uid)) if uid is not None else qs.filter(featured=True)
    elif scope == "mine":
        qs = qs.filter(owner_id=uid) if uid is not None else qs.none()
    elif scope == "public":
        qs = qs.filter(visibility=CharacterVisibility.PUBLIC)
    elif scope == "presets":
        qs = qs.filter(owner__isnull=True)
    if search:
        search = search[:100]
        qs = qs.filter(
            Q(name__icontains=search) | Q(nickname__icontains=search) | Q(source_work__icontains=search)
            | Q(job__icontains=search)
        )
    if category:
        qs = qs.filter(category=category)
    if language:
        qs = qs.filter(language=language)
    if preset_language:
        qs = qs.filter(Q(owner__isnull=False) | Q(language=preset_language))
    return qs.order_by("name", "id")


def get_visible_character(*, user: Any, character_id: Any) -> Character:
    """A character the user may read (own, public or unlisted), or 404."""
    pk = _parse_id(character_id)
    uid = _user_id(user)
    visible = Q(visibility__in=[CharacterVisibility.PUBLIC, CharacterVisibility.UNLISTED]) & _visible_to_others()
    if uid is not None:
        visible |= Q(owner_id=uid)
    character = (
        Character.objects.filter(visible, pk=pk, is_draft=False).select_related("owner", "avatar").first()
        if pk is not None else None
    )
    if character is None:
        raise NotFound(_("No such character."), code="not_found")
    return character


def get_owned_character(*, user: Any, character_id: Any) -> Character:
    """A character the user may change: 404 when they cannot see it, 403 when they only can see it."""
    character = get_visible_character(user=user, character_id=character_id)
    if character.owner_id is None or character.owner_id != _user_id(user):
        raise Forbidden(_("Only the owner can change this character."), code="permission_denied")
    return character


def get_draft(*, user: Any, draft_id: Any) -> Character:
    pk = _parse_id(draft_id)
    uid = _user_id(user)
    draft = (
        Character.objects.filter(pk=pk, owner_id=uid, is_draft=True).first()
        if pk is not None and uid is not None else None
    )
    if draft is None:
        raise NotFound(_("No such draft. Start the wizard again."), code="wizard_draft_not_found")
    return draft


def user_drafts(*, user: Any) -> QuerySet[Character]:
    return Character.objects.filter(owner_id=_user_id(user), is_draft=True).order_by("-created_at")


def reportable_character(*, user: Any, character_id: Any) -> Character:
    """Someone else's character `user` can see and may report: 404 when they cannot see it, 403
    `report_own_character` for their own, 403 `report_not_allowed` for a preset (written by us)."""
    character = get_visible_character(user=user, character_id=character_id)
    if character.owner_id is not None and character.owner_id == _user_id(user):
        raise Forbidden(_("You cannot report your own character."), code="report_own_character")
    if character.owner_id is None:
        raise Forbidden(_("Presets are written by the AvatarForge team and cannot be reported."),
                        code="report_not_allowed")
    return character


def has_open_report(*, user: Any, character: Character) -> bool:
    uid = _user_id(user)
    return uid is not None and CharacterReport.objects.filter(
        character=character, reporter_id=uid, status=ReportStatus.OPEN).exists()
