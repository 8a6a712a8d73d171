"""Reads of the avatar library: who sees and who may use which avatar, and the records other
features need (calls, chat, generation).

Visibility: an avatar is visible to its owner, and to every signed-in user when the owner shared
it (possible only when its license allows redistribution).
Use in a call (avatar permission): "everyone" -> whoever sees it; "onlyAuthor" -> only the owner
who declared they are the author; "onlySeparatelyLicensedPerson" -> only the owner who declared
they hold a license from the author; not declared (plain glTF, or a file without meta) -> only
the owner, at their own responsibility.
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User

from .license_card import license_card, license_summary
from .models import Actor, Avatar, AvatarPermission
from .vrm_meta import warning_message

RENDERER_KIND = {"0.x": "vrm0", "1.0": "vrm1", "gltf": "gltf"}


def avatars_owned_by(user: User) -> QuerySet[Avatar]:
    return Avatar.objects.filter(owner=user).annotate(actor_count=Count("actors"))


def avatars_visible_to(user: User) -> QuerySet[Avatar]:
    if not user.is_authenticated:
        return Avatar.objects.none()
    return Avatar.objects.filter(Q(owner=user) | Q(is_shared=True, redistribution_allowed=True))


def is_visible_to(user: User | None, avatar: Avatar) -> bool:
    """The rule of avatars_visible_to for one avatar in hand (no query)."""
    owner = user is not None and user.is_authenticated and avatar.owner_id == user.pk
    return owner or (avatar.is_shared and avatar.redistribution_allowed)


def shared_avatars_for(user: User) -> QuerySet[Avatar]:
    """Avatars other users shared (for the library's "shared" tab)."""
    return Avatar.objects.filter(is_shared=True, redistribution_allowed=True).exclude(owner=user).select_related("owner")


def _usable_q(user: User) -> Q:
    own = Q(owner=user) & (
        Q(avatar_permission=AvatarPermission.EVERYONE)
        | Q(avatar_permission=AvatarPermission.UNKNOWN)
        | Q(avatar_permission=AvatarPermission.ONLY_AUTHOR, owner_is_author=True)
        | Q(avatar_permission=AvatarPermission.ONLY_LICENSED, owner_has_license=True)
    )
    shared = Q(is_shared=True, redistribution_allowed=True, avatar_permission=AvatarPermission.EVERYONE)
    return own | shared


def avatars_usable_by(user: User) -> QuerySet[Avatar]:
    """Avatars `user` may perform as (in a call, as an actor's avatar) under the license rules."""
    if not user.is_authenticated:
        return Avatar.objects.none()
    return Avatar.objects.filter(_usable_q(user))


def can_use_avatar(*, user: User, avatar: Avatar) -> tuple[bool, str]:
    """(allowed, reason the user can act on when not)."""
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


def get_visible_avatar(*, user: User, avatar_id: Any) -> Avatar | None:
    try:
        return avatars_visible_to(user).select_related("owner").filter(pk=avatar_id).first()
    except (ValueError, TypeError, ValidationError):  # a malformed UUID from a body
        return None


def actors_for(user: User) -> QuerySet[Actor]:
    return Actor.objects.filter(owner=user).select_related("avatar")


def actors_using(avatar: Avatar) -> QuerySet[Actor]:
    return Actor.objects.filter(avatar=avatar).order_by("name")


def warnings_for(avatar: Avatar) -> list[dict[str, Any]]:
    return [
        {"code": w.get("code", ""), "message": warning_message(w), "details": w.get("details") or {}}
        for w in avatar.warnings or []
    ]


def avatar_card(avatar: Avatar) -> dict[str, Any]:
    """What other features need to show and load an avatar (calls, chat, generation results).

    {id, name, fileHash, fileSize, version, renderer ("vrm0" | "vrm1" | "gltf"), expressions,
     licenseCard [{key,label,state,value}], license {name,url,...,authors}, thumbnailUrl, fileUrl}
    fileUrl needs the caller's own access (session/token); for someone else use
    avatar_services.signed_file_url.
    """
    meta = avatar.meta or {}
    return {
        "id": str(avatar.id),
        "name": avatar.name,
        "fileHash": avatar.file_hash,
        "fileSize": avatar.file_size,
        "version": avatar.vrm_version,
        "renderer": RENDERER_KIND.get(avatar.vrm_version, "gltf"),
        "expressions": (meta.get("expressions") or {}).get("presets", []) + (meta.get("expressions") or {}).get("custom", []),
        "licenseCard": license_card(meta),
        "license": license_summary(meta),
        "performanceRank": avatar.performance_rank,
        "thumbnailUrl": reverse("api:avatar-thumbnail", kwargs={"avatar_id": avatar.pk}),
        "fileUrl": reverse("api:avatar-file", kwargs={"avatar_id": avatar.pk}),
    }


def resolve_cache(*, user: User, entries: list[dict[str, str]]) -> dict[str, list[Any]]:
    """Sort a client's cached {id, fileHash} list into current / changed / gone in one query.

    Unknown, deleted and not-visible ids are all "gone" (no difference is revealed).
    """
    from .avatar_services import signed_file_url

    ids = [e["id"] for e in entries]
    found = {str(a.pk): a for a in avatars_visible_to(user).filter(pk__in=ids)}
    result: dict[str, list[Any]] = {"current": [], "changed": [], "gone": []}
    for entry in entries:
        avatar = found.get(str(entry["id"]))
        if avatar is None:
            result["gone"].append(str(entry["id"]))
        elif avatar.file_hash == entry["fileHash"]:
            result["current"].append(str(avatar.pk))
        else:
            url, ttl = signed_file_url(avatar=avatar)
            result["changed"].append(
                {"id": str(avatar.pk), "fileHash": avatar.file_hash, "fileSize": avatar.file_size,
                 "name": avatar.name, "url": url, "expiresIn": ttl}
            )
    return result
