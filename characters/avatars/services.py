"""Writes of the avatar library: upload (validate, normalize, encrypt, store), edit, delete and
key rotation. Actors are in actors.py, signed links in links.py, stored bytes in storage.py.

Storage discipline: objects are written to storage before the row is committed and deleted
again if anything after that fails, so a failed upload leaves no row and no object; objects a
committed change makes obsolete are deleted after the commit (transaction.on_commit).
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from django.core.files import File
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import lock_user, lock_user_for_limit
from avatarforge.errors import AppError, Conflict, Forbidden, LimitExceeded, NotFound, PayloadTooLarge
from avatarforge.text import normalize_name

from ..models import Actor, Avatar, AvatarPermission
from . import crypto
from . import storage as avatar_storage
from .formats.glb import parse_glb
from .formats.vrm_meta import normalize
from .policy import is_visible_to
from .storage import delete_quietly, open_stored
from .thumbnails import extract_thumbnail, image_sizes, placeholder_thumbnail

logger = logging.getLogger(__name__)

ALLOWED_EXTENSIONS = (".vrm", ".glb")
ON_CONFLICT_CHOICES = ("overwrite", "keep_both")
COPY_CHUNK = 1024 * 1024


# --- upload -----------------------------------------------------------------------------------


@contextmanager
def _open_source(source: str | os.PathLike[str] | IO[bytes]) -> Iterator[IO[bytes]]:
    """A seekable binary file for a path or a file object. A non-seekable stream is spooled to
    a temporary file in chunks first (memory stays flat)."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fh:
            yield fh
        return
    fileobj = getattr(source, "file", source)  # Django UploadedFile -> its underlying file
    seekable = getattr(fileobj, "seekable", lambda: False)
    try:
        ok = bool(seekable())
    except (OSError, ValueError):
        ok = False
    if ok:
        fileobj.seek(0)
        yield fileobj
        return
    with tempfile.TemporaryFile(prefix="avatar-src-") as spool:
        shutil.copyfileobj(fileobj, spool, COPY_CHUNK)
        spool.seek(0)
        yield spool


def _size_of(fileobj: IO[bytes]) -> int:
    fileobj.seek(0, os.SEEK_END)
    size = fileobj.tell()
    fileobj.seek(0)
    return size


def clean_display_name(text: str) -> str:
    """A display name without control or bidi characters, at most 128 long (avatars, actors)."""
    return normalize_name(text, max_length=128)  # the shared name normalizer (avatarforge/text.py)


def _display_name(record: dict[str, Any], filename: str) -> str:
    return clean_display_name(record.get("title") or "") or clean_display_name(Path(filename).stem) or _("Unnamed avatar")


def _available_name(owner: User, base: str, vrm_version: str) -> str:
    """"Name (2)", "Name (3)"... for keep_both."""
    taken = set(Avatar.objects.filter(owner=owner, vrm_version=vrm_version, name__startswith=base[:100]).values_list("name", flat=True))
    n = 2
    while True:
        candidate = f"{base[:118]} ({n})"
        if candidate not in taken:
            return candidate
        n += 1


def _license_columns(record: dict[str, Any]) -> dict[str, Any]:
    perms = record.get("permissions") or {}
    permission = perms.get("avatarPermission") or AvatarPermission.UNKNOWN
    if permission not in AvatarPermission.values:
        permission = AvatarPermission.UNKNOWN
    return {
        "avatar_permission": permission,
        "redistribution_allowed": perms.get("redistribution") is True,
        "commercial_use_allowed": perms.get("commercialUsage") in ("corporation", "personalProfit"),
        "license_name": (record.get("license") or {}).get("name", "")[:255],
    }


def _duplicate_error(existing: Avatar) -> Conflict:
    return Conflict(
        _("You already uploaded this exact file as “%(name)s”. The existing avatar is kept; no second copy is stored.")
        % {"name": existing.name},
        code="avatar_duplicate",
        details={"existing_id": str(existing.id), "existing_name": existing.name, "fileHash": existing.file_hash},
    )


def _name_conflict_error(existing: Avatar) -> Conflict:
    return Conflict(
        _("You already have an avatar called “%(name)s” (%(version)s) with different content. Overwrite it, or keep both?")
        % {"name": existing.name, "version": existing.get_vrm_version_display()},
        code="avatar_name_conflict",
        details={"existing_id": str(existing.id), "existing_name": existing.name, "options": list(ON_CONFLICT_CHOICES)},
    )


def inspect_avatar_file(fileobj: IO[bytes]) -> tuple[dict[str, Any], list[dict[str, Any]], bytes | None]:
    """Parse and normalize an avatar file. Returns (record, warnings, embedded thumbnail WebP or None).

    Raises GlbError (400, code glb_* / vrm_*) for files that cannot be used. Reads with seeks:
    the JSON chunk, image headers and the thumbnail image only.
    """
    doc = parse_glb(fileobj)
    sizes, external = image_sizes(doc, fileobj)
    record, warnings = normalize(doc, fileobj, sizes)
    if external:
        warnings.append({"code": "external_images", "details": {}})
    thumbnail = None
    image_index = record["thumbnail"]["image"]
    if image_index is not None:
        thumbnail, problem = extract_thumbnail(doc, fileobj, image_index)
        if problem:
            warnings.append({"code": problem, "details": {}})
    return record, warnings, thumbnail


def create_avatar_from_file(
    *,
    owner: User,
    file: str | os.PathLike[str] | IO[bytes],
    filename: str,
    on_conflict: str | None = None,
    name: str | None = None,
    owner_is_author: bool = False,
    owner_has_license: bool = False,
) -> Avatar:
    """Validate, normalize, encrypt and store an avatar file for `owner`; return the new Avatar.

    The one entry point for every way avatars arrive (page upload, REST API, generated avatars).

    Args:
        owner: the user the avatar belongs to (their plan's limits apply).
        file: a path, or a binary file object (Django UploadedFile, open file, BytesIO). Read in
            chunks with seeks; a non-seekable stream is spooled to a temporary file first.
        filename: the original file name; must end in .vrm or .glb (used for the display name).
        on_conflict: when an avatar with the same name and VRM version but different content
            exists: None -> Conflict "avatar_name_conflict"; "overwrite" -> that avatar gets the
            new file (same id, actors stay bound; the returned Avatar is it); "keep_both" -> a new
            avatar named "Name (2)".
        name: display name; default: the file's meta title, else the file name without extension.
        owner_is_author / owner_has_license: the uploader's declarations, needed to use
            author-only / explicitly-licensed avatars in calls.

    Raises (all AppError, rendered as {code, message, details}):
        400 avatar_file_type, avatar_file_empty, glb_* (malformed container), vrm_version_unsupported,
            vrm_humanoid_missing, vrm_invalid, invalid_on_conflict
        413 avatar_too_large (over owner.plan.max_avatar_bytes)
        403 avatar_slots_exceeded
        409 avatar_duplicate (same SHA-256 already in the owner's library; details.existing_id),
            avatar_name_conflict (details.existing_id, details.options)
    On any failure nothing is left behind: no row, no stored object.
    """
    if on_conflict not in (None, "", *ON_CONFLICT_CHOICES):
        raise AppError(_("on_conflict must be “overwrite” or “keep_both”."), code="invalid_on_conflict")
    filename = os.path.basename(str(filename or ""))[:255]
    if not filename.lower().endswith(ALLOWED_EXTENSIONS):
        raise AppError(
            _("Upload a .vrm (VRM 0.x or 1.0) or .glb file."),
            code="avatar_file_type",
            details={"allowed": list(ALLOWED_EXTENSIONS)},
        )
    with _open_source(file) as fh:
        size = _size_of(fh)
        if size == 0:
            raise AppError(_("The file is empty. Choose the avatar file again."), code="avatar_file_empty")
        limit = owner.plan.max_avatar_bytes
        if size > limit:
            raise PayloadTooLarge(
                _("The file is %(size)s; your plan allows avatars up to %(limit)s. Reduce texture sizes or polygon count (for example with VRoid Studio's or UniVRM's optimizer) and upload again.")
                % {"size": f"{size / 2**20:.1f} MB", "limit": f"{limit / 2**20:.0f} MB"},
                code="avatar_too_large",
                details={"size": size, "max_bytes": limit},
            )
        record, warnings, thumbnail = inspect_avatar_file(fh)
        vrm_version = record["format"]
        display_name = clean_display_name(name or "") or _display_name(record, filename)

        # Hash and encrypt in one pass. Duplicates are refused before anything is stored.
        hasher = hashlib.sha256()
        fh.seek(0)
        encrypted, plain_size = crypto.encrypt_file_to_temp(fh, hasher=hasher)
    with encrypted:
        file_hash = hasher.hexdigest()
        existing = Avatar.objects.filter(owner=owner, file_hash=file_hash).first()
        if existing is not None:
            raise _duplicate_error(existing)
        if not on_conflict:
            same = Avatar.objects.filter(owner=owner, name=display_name, vrm_version=vrm_version).first()
            if same is not None:
                raise _name_conflict_error(same)

        thumbnail_is_placeholder = thumbnail is None
        if thumbnail is None:
            thumbnail = placeholder_thumbnail(file_hash)
        folder = f"avatars/{owner.pk}"
        token = uuid.uuid4().hex
        written: list[str] = []
        try:
            key_name = avatar_storage.storage().save(f"{folder}/{token}.vrm.enc", File(encrypted, name=f"{token}.vrm.enc"))
            written.append(key_name)
            thumb_name = avatar_storage.storage().save(f"{folder}/{token}-thumb.webp", ContentFile(thumbnail))
            written.append(thumb_name)
            fields = {
                "original_filename": filename,
                "vrm_version": vrm_version,
                "spec_version": record.get("specVersion", "")[:32],
                "exporter": record.get("exporter", "")[:128],
                "file_hash": file_hash,
                "file_size": plain_size,
                "storage_key": key_name,
                "encryption_key_id": crypto.current_key().id,
                "thumbnail_key": thumb_name,
                "thumbnail_is_placeholder": thumbnail_is_placeholder,
                "meta": record,
                "warnings": warnings,
                "performance_rank": record["rank"],
                **_license_columns(record),
            }
            avatar = _commit_upload(
                owner=owner,
                fields=fields,
                display_name=display_name,
                on_conflict=on_conflict or None,
                owner_is_author=owner_is_author,
                owner_has_license=owner_has_license,
            )
        except BaseException:
            for obj in written:
                delete_quietly(obj)
            raise
    return avatar


@transaction.atomic
def _commit_upload(
    *,
    owner: User,
    fields: dict[str, Any],
    display_name: str,
    on_conflict: str | None,
    owner_is_author: bool,
    owner_has_license: bool,
) -> Avatar:
    """Re-check duplicates and conflicts under the owner's row lock and write the row."""
    vrm_version = fields["vrm_version"]
    # Every upload of this owner serializes on the user row from here on, so the checks below
    # see each other's committed rows (two identical uploads: one wins, one is a duplicate).
    lock_user(user_id=owner.pk)
    existing = Avatar.objects.filter(owner=owner, file_hash=fields["file_hash"]).first()
    if existing is not None:
        raise _duplicate_error(existing)
    target: Avatar | None = None
    if on_conflict == "overwrite":
        target = Avatar.objects.select_for_update().filter(owner=owner, name=display_name, vrm_version=vrm_version).first()
    if target is None:
        try:
            lock_user_for_limit(user_id=owner.pk, limit="avatar_slots")
        except LimitExceeded as exc:
            raise LimitExceeded(
                _("Your avatar library is full. Delete avatars you no longer use, then upload again."),
                code="avatar_slots_exceeded",
                details=exc.details,
            ) from None
        same = Avatar.objects.filter(owner=owner, name=display_name, vrm_version=vrm_version).first()
        if same is not None:
            if on_conflict != "keep_both":
                raise _name_conflict_error(same)
            display_name = _available_name(owner, display_name, vrm_version)
        try:
            with transaction.atomic():
                return Avatar.objects.create(
                    owner=owner,
                    name=display_name,
                    owner_is_author=owner_is_author,
                    owner_has_license=owner_has_license,
                    **fields,
                )
        except IntegrityError:
            existing = Avatar.objects.filter(owner=owner, file_hash=fields["file_hash"]).first()
            if existing is not None:
                raise _duplicate_error(existing) from None
            raise
    old_objects = [target.storage_key, target.thumbnail_key]
    for key, value in fields.items():
        setattr(target, key, value)
    target.owner_is_author = owner_is_author or target.owner_is_author
    target.owner_has_license = owner_has_license or target.owner_has_license
    if not target.redistribution_allowed:
        target.is_shared = False
    target.save()
    transaction.on_commit(lambda: [delete_quietly(o) for o in old_objects if o])
    return target


def rotate_avatar_key(*, avatar_id: Any, force: bool = False) -> bool:
    """Re-encrypt one avatar's stored file with the newest key. Returns whether it was rewritten.

    The new ciphertext is written under a new name and the row switched in a transaction before
    the old object is deleted, so a crash at any point leaves a readable avatar.
    """
    avatar = Avatar.objects.get(pk=avatar_id)
    newest = crypto.current_key()
    if avatar.encryption_key_id == newest.id and not force:
        return False
    src = open_stored(avatar.storage_key)
    try:
        rewritten = crypto.reencrypt_to_temp(src, newest)
    finally:
        src.close()
    with rewritten:
        folder = os.path.dirname(avatar.storage_key)
        token = uuid.uuid4().hex
        new_name = avatar_storage.storage().save(f"{folder}/{token}.vrm.enc", File(rewritten, name=f"{token}.vrm.enc"))
    try:
        with transaction.atomic():
            locked = Avatar.objects.select_for_update().get(pk=avatar.pk)
            if locked.storage_key != avatar.storage_key:
                raise RuntimeError("the avatar changed while it was being re-encrypted")
            old = locked.storage_key
            locked.storage_key = new_name
            locked.encryption_key_id = newest.id
            locked.save(update_fields=["storage_key", "encryption_key_id", "updated_at"])
            transaction.on_commit(lambda: delete_quietly(old))
    except BaseException:
        delete_quietly(new_name)
        raise
    return True


# --- editing and deleting ---------------------------------------------------------------------


def _own_avatar_for_update(*, user: User, avatar_id: Any) -> Avatar:
    avatar = Avatar.objects.select_for_update().filter(pk=avatar_id).first()
    if avatar is None or not is_visible_to(user, avatar):
        raise NotFound(_("No such avatar."), code="not_found")
    if avatar.owner_id != user.pk:
        raise Forbidden(_("Only the owner can change this avatar."), code="not_owner")
    return avatar


@transaction.atomic
def update_avatar(
    *,
    user: User,
    avatar_id: Any,
    name: str | None = None,
    is_shared: bool | None = None,
    owner_is_author: bool | None = None,
    owner_has_license: bool | None = None,
) -> Avatar:
    """Rename, share/unshare, or set the uploader's declarations.

    Sharing requires a license that allows redistribution (403 license_forbids_sharing).
    """
    avatar = _own_avatar_for_update(user=user, avatar_id=avatar_id)
    if name is not None:
        clean = clean_display_name(name)
        if not clean:
            raise AppError(_("Give the avatar a name."), code="avatar_name_required")
        avatar.name = clean
    if is_shared is True and not avatar.redistribution_allowed:
        raise Forbidden(
            _("This avatar's license does not allow redistribution, so it cannot be shared with other users."),
            code="license_forbids_sharing",
            details={"license": avatar.license_name},
        )
    if is_shared is not None:
        avatar.is_shared = is_shared
    if owner_is_author is not None:
        avatar.owner_is_author = owner_is_author
    if owner_has_license is not None:
        avatar.owner_has_license = owner_has_license
    avatar.save()
    return avatar


@transaction.atomic
def delete_avatar(*, user: User, avatar_id: Any) -> None:
    """Delete the avatar and its stored objects, unless actors (or other features) still use it:
    then 409 avatar_in_use with details.actors = [{id, name}]."""
    avatar = _own_avatar_for_update(user=user, avatar_id=avatar_id)
    actors = list(Actor.objects.filter(avatar=avatar).order_by("name").values("id", "name"))
    if actors:
        raise Conflict(
            _("Actors still use this avatar: %(names)s. Give them another avatar or delete them first.")
            % {"names": ", ".join(a["name"] for a in actors)},
            code="avatar_in_use",
            details={"actors": actors},
        )
    try:
        with transaction.atomic():
            avatar.delete()  # post_delete schedules the stored objects' deletion after commit
    except (ProtectedError, RestrictedError) as exc:
        found = getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", None) or []
        users = sorted({str(obj._meta.verbose_name) for obj in found})
        raise Conflict(
            _("Other items still use this avatar (%(what)s). Remove it from them first.") % {"what": ", ".join(users)},
            code="avatar_in_use",
            details={"actors": [], "used_by": users},
        ) from None


