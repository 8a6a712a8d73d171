"""Writes of actors: a named performer bound to one of the owner's avatars that its license lets
them use, with validated tracking settings (actor_settings). Creation is within the plan's
actor_slots, taken through the one accounts lock helper."""
from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import lock_user_for_limit
from avatarforge.errors import AppError, Forbidden, NotFound

from ..models import Actor, Avatar
from .actor_settings import validate_settings
from .policy import can_use_avatar
from .services import clean_display_name


def _usable_own_avatar(*, user: User, avatar_id: Any) -> Avatar:
    avatar = Avatar.objects.filter(pk=avatar_id, owner=user).first()
    if avatar is None:
        raise NotFound(_("No such avatar in your library."), code="avatar_not_found", details={"field": "avatar"})
    allowed, reason = can_use_avatar(user=user, avatar=avatar)
    if not allowed:
        raise Forbidden(reason, code="avatar_use_not_permitted", details={"avatarPermission": avatar.avatar_permission})
    return avatar


def _avatar_expressions(avatar: Avatar) -> list[str]:
    expressions = (avatar.meta or {}).get("expressions") or {}
    return list(expressions.get("presets") or []) + list(expressions.get("custom") or [])


@transaction.atomic
def create_actor(*, user: User, name: str, avatar_id: Any, settings_data: dict[str, Any] | None = None) -> Actor:
    """A new actor within the plan's actor_slots (403 actor_slots_exceeded), bound to one of the
    user's avatars that its license lets them use."""
    lock_user_for_limit(user_id=user.pk, limit="actor_slots")
    clean_name = clean_display_name(name)[:64]
    if not clean_name:
        raise AppError(_("Give the actor a name."), code="actor_name_required")
    avatar = _usable_own_avatar(user=user, avatar_id=avatar_id)
    clean = validate_settings(settings_data, expressions=_avatar_expressions(avatar))
    return Actor.objects.create(owner=user, name=clean_name, avatar=avatar, settings=clean)


@transaction.atomic
def update_actor(
    *,
    user: User,
    actor_id: int,
    name: str | None = None,
    avatar_id: Any = None,
    settings_data: dict[str, Any] | None = None,
) -> Actor:
    actor = Actor.objects.select_for_update().filter(pk=actor_id, owner=user).first()
    if actor is None:
        raise NotFound(_("No such actor."), code="not_found")
    if name is not None:
        clean_name = clean_display_name(name)[:64]
        if not clean_name:
            raise AppError(_("Give the actor a name."), code="actor_name_required")
        actor.name = clean_name
    if avatar_id is not None and str(avatar_id) != str(actor.avatar_id):
        actor.avatar = _usable_own_avatar(user=user, avatar_id=avatar_id)
    if settings_data is not None or avatar_id is not None:
        data = settings_data if settings_data is not None else actor.settings
        actor.settings = validate_settings(data, expressions=_avatar_expressions(actor.avatar))
    actor.save()
    return actor


@transaction.atomic
def delete_actor(*, user: User, actor_id: int) -> None:
    deleted, _rows = Actor.objects.filter(pk=actor_id, owner=user).delete()
    if not deleted:
        raise NotFound(_("No such actor."), code="not_found")
