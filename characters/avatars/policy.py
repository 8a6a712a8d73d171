"""Who may see and who may use an avatar: the one place these rules live.

Reads (selectors), writes (services, actors) and personas all ask here, so the rule for a
queryset and the rule for one avatar in hand cannot drift apart.

Visibility: an avatar is visible to its owner, and to every signed-in user when the owner shared
it (possible only when its license allows redistribution).
Use in a call (avatar permission): "everyone" -> whoever sees it; "onlyAuthor" -> only the owner
who declared they are the author; "onlySeparatelyLicensedPerson" -> only the owner who declared
they hold a license from the author; not declared (plain glTF, or a file without meta) -> only
the owner, at their own responsibility.
"""
from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from ..models import Avatar, AvatarPermission


def visible_q(user: Any | None) -> Q:
    """The visibility rule as a filter: own avatars plus shared ones (only shared ones for nobody)."""
    shared = Q(is_shared=True, redistribution_allowed=True)
    if user is None or not user.is_authenticated:
        return shared
    return Q(owner_id=user.pk) | shared


def is_visible_to(user: Any | None, avatar: Avatar) -> bool:
    """The rule of visible_q for one avatar in hand (no query)."""
    owner = user is not None and user.is_authenticated and avatar.owner_id == user.pk
    return owner or (avatar.is_shared and avatar.redistribution_allowed)


def usable_q(user: Any) -> Q:
    """The use rule as a filter: the avatars `user` may perform as under their licenses."""
    own = Q(owner=user) & (
        Q(avatar_permission=AvatarPermission.EVERYONE)
        | Q(avatar_permission=AvatarPermission.UNKNOWN)
        | Q(avatar_permission=AvatarPermission.ONLY_AUTHOR, owner_is_author=True)
        | Q(avatar_permission=AvatarPermission.ONLY_LICENSED, owner_has_license=True)
    )
    shared = Q(is_shared=True, redistribution_allowed=True, avatar_permission=AvatarPermission.EVERYONE)
    return own | shared


def can_use_avatar(*, user: Any, avatar: Avatar) -> tuple[bool, str]:
    """The rule of usable_q for one avatar in hand: (allowed, reason the user can act on when not)."""
    owner = avatar.owner_id == user.pk
    if not owner and not (avatar.is_shared and avatar.redistribution_allowed):
        return False, _("This avatar is not in your library.")
    permission = avatar.avatar_permission
    if permission == AvatarPermission.EVERYONE:
        return True, ""
    if not owner:
        return False, _("The avatar's license lets only its author or licensed people use it.")
    if permission == AvatarPermission.ONLY_AUTHOR and not avatar.owner_is_author:
        return False, _(
            "The license lets only the author use this avatar. If you are the author, say so on the avatar's page."
        )
    if permission == AvatarPermission.ONLY_LICENSED and not avatar.owner_has_license:
        return False, _(
            "The license lets only people the author licensed use this avatar. If the author gave you a license, say so on the avatar's page."
        )
    return True, ""
