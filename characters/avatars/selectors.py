"""Reads of the avatar library: the avatars and actors a user sees or may use, and the records
other features need (calls, chat, generation). The rules themselves live in policy.py.
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.urls import reverse

from accounts.models import User

from ..models import Actor, Avatar
from .formats.vrm_meta import warning_message
from .license_card import license_card, license_summary
from .links import signed_file_url
from .policy import usable_q, visible_q

RENDERER_KIND = {"0.x": "vrm0", "1.0": "vrm1", "gltf": "gltf"}


def avatars_owned_by(user: User) -> QuerySet[Avatar]:
    return Avatar.objects.filter(owner=user).annotate(actor_count=Count("actors"))


def avatars_visible_to(user: User) -> QuerySet[Avatar]:
    if not user.is_authenticated:
        return Avatar.objects.none()
    return Avatar.objects.filter(visible_q(user))


def shared_avatars_for(user: User) -> QuerySet[Avatar]:
    """Avatars other users shared (for the library's "shared" tab)."""
    return Avatar.objects.filter(is_shared=True, redistribution_allowed=True).exclude(owner=user).select_related("owner")


def avatars_usable_by(user: User) -> QuerySet[Avatar]:
    """Avatars `user` may perform as (in a call, as an actor's avatar) under the license rules."""
    if not user.is_authenticated:
        return Avatar.objects.none()
    return Avatar.objects.filter(usable_q(user))


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
    links.signed_file_url.
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
