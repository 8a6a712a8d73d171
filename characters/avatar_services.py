"""Writes of the avatar library: upload (validate, normalize, encrypt, store), edit, delete,
actors, and signed download links.

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

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import lock_user_for_limit
from avatarforge.errors import AppError, Conflict, Forbidden, LimitExceeded, NotFound, PayloadTooLarge
from avatarforge.text import normalize_name

from . import storage_crypto
from .actor_settings import validate_settings
from .avatar_thumbnails import extract_thumbnail, image_sizes, placeholder_thumbnail
from .glb import parse_glb
from .models import Actor, Avatar, AvatarPermission
from .vrm_meta import normalize

logger = logging.getLogger(__name__)

ALLOWED_EXTENSIONS = (".vrm", ".glb")
ON_CONFLICT_CHOICES = ("overwrite", "keep_both")
DOWNLOAD_SALT = "characters.avatar-file"
COPY_CHUNK = 1024 * 1024


def storage() -> Storage:
    return default_storage


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


def _clean_name(text: str) -> str:
    return normalize_name(text, max_length=128)  # the shared name normalizer (avatarforge/text.py)


def _display_name(record: dict[str, Any], filename: str) -> str:
    return _clean_name(record.get("title") or "") or _clean_name(Path(filename).stem) or _("Unnamed avatar")


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
        display_name = _clean_name(name or "") or _display_name(record, filename)

        # Hash and encrypt in one pass. Duplicates are refused before anything is stored.
        hasher = hashlib.sha256()
        fh.seek(0)
        encrypted, plain_size = storage_crypto.encrypt_file_to_temp(fh, hasher=hasher)
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
            key_name = storage().save(f"{folder}/{token}.vrm.enc", File(encrypted, name=f"{token}.vrm.enc"))
            written.append(key_name)
            thumb_name = storage().save(f"{folder}/{token}-thumb.webp", ContentFile(thumbnail))
            written.append(thumb_name)
            fields = {
                "original_filename": filename,
                "vrm_version": vrm_version,
                "spec_version": record.get("specVersion", "")[:32],
                "exporter": record.get("exporter", "")[:128],
                "file_hash": file_hash,
                "file_size": plain_size,
                "storage_key": key_name,
                "encryption_key_id": storage_crypto.current_key().id,
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
                _delete_quietly(obj)
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
    User.objects.select_for_update().filter(pk=owner.pk).first()
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
    transaction.on_commit(lambda: [_delete_quietly(o) for o in old_objects if o])
    return target


def _delete_quietly(name: str) -> None:
    try:
        storage().delete(name)
    except Exception:  # noqa: BLE001 - a leftover object must not turn a response into a 500
        logger.exception("Could not delete stored object %s", name)


# --- reading stored bytes ---------------------------------------------------------------------


def open_stored(name: str) -> IO[bytes]:
    """A readable stream of a stored object that does not load it whole.

    django-storages' S3File downloads the entire object before the first read (into memory
    unless AWS_S3_MAX_MEMORY_SIZE is set), so for S3 the raw boto body is used: it streams.
    Other backends (local folder) open files lazily anyway.
    """
    store = storage()
    bucket = getattr(store, "bucket", None)
    if bucket is not None and hasattr(store, "_normalize_name"):
        from storages.utils import clean_name

        return bucket.Object(store._normalize_name(clean_name(name))).get()["Body"]
    return store.open(name, "rb")


def open_decrypted(avatar: Avatar) -> Iterator[bytes]:
    """Plaintext chunks of the avatar file (streamed from storage, decrypted chunk by chunk)."""
    handle = open_stored(avatar.storage_key)
    try:
        yield from storage_crypto.decrypt_stream(handle)
    finally:
        handle.close()


def delete_stored_objects_on_commit(avatar: Avatar) -> None:
    """After the surrounding transaction commits, delete the avatar's stored objects. Connected
    to post_delete (characters.avatar_signals), so cascades (a deleted user) clean up too."""
    objects = [o for o in (avatar.storage_key, avatar.thumbnail_key) if o]
    transaction.on_commit(lambda: [_delete_quietly(o) for o in objects])


def read_thumbnail(avatar: Avatar) -> bytes:
    with storage().open(avatar.thumbnail_key, "rb") as fh:
        return fh.read(4 * 1024 * 1024)


def rotate_avatar_key(*, avatar_id: Any, force: bool = False) -> bool:
    """Re-encrypt one avatar's stored file with the newest key. Returns whether it was rewritten.

    The new ciphertext is written under a new name and the row switched in a transaction before
    the old object is deleted, so a crash at any point leaves a readable avatar.
    """
    avatar = Avatar.objects.get(pk=avatar_id)
    newest = storage_crypto.current_key()
    if avatar.encryption_key_id == newest.id and not force:
        return False
    src = open_stored(avatar.storage_key)
    try:
        rewritten = storage_crypto.reencrypt_to_temp(src, newest)
    finally:
        src.close()
    with rewritten:
        folder = os.path.dirname(avatar.storage_key)
        token = uuid.uuid4().hex
        new_name = storage().save(f"{folder}/{token}.vrm.enc", File(rewritten, name=f"{token}.vrm.enc"))
    try:
        with transaction.atomic():
            locked = Avatar.objects.select_for_update().get(pk=avatar.pk)
            if locked.storage_key != avatar.storage_key:
                raise RuntimeError("the avatar changed while it was being re-encrypted")
            old = locked.storage_key
            locked.storage_key = new_name
            locked.encryption_key_id = newest.id
            locked.save(update_fields=["storage_key", "encryption_key_id", "updated_at"])
            transaction.on_commit(lambda: _delete_quietly(old))
    except BaseException:
        _delete_quietly(new_name)
        raise
    return True


# --- editing and deleting ---------------------------------------------------------------------


def _own_avatar_for_update(*, user: User, avatar_id: Any) -> Avatar:
    avatar = Avatar.objects.select_for_update().filter(pk=avatar_id).first()
    if avatar is None or (avatar.owner_id != user.pk and not (avatar.is_shared and avatar.redistribution_allowed)):
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
        clean = _clean_name(name)
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


# --- download links ---------------------------------------------------------------------------


def signed_file_url(*, avatar: Avatar) -> tuple[str, int]:
    """A short-lived URL that downloads the decrypted file without a session: (path, ttl seconds).

    Why not an S3 presigned URL: the bucket holds ciphertext, so the bytes must pass through our
    authorizing view to be decrypted. The token signs the avatar id and its fileHash, so the link
    dies when the file is replaced, and it expires after STORAGE_PRESIGN_TTL seconds. Callers
    must have checked that the recipient may see the avatar (e.g. the call partner).
    """
    token = signing.TimestampSigner(salt=DOWNLOAD_SALT).sign(f"{avatar.pk}.{avatar.file_hash}")
    path = reverse("api:avatar-file", kwargs={"avatar_id": avatar.pk})
    return f"{path}?token={token}", settings.STORAGE_PRESIGN_TTL


def avatar_for_token(*, avatar_id: Any, token: str) -> Avatar:
    try:
        value = signing.TimestampSigner(salt=DOWNLOAD_SALT).unsign(token, max_age=settings.STORAGE_PRESIGN_TTL)
    except signing.SignatureExpired:
        raise Forbidden(_("This download link has expired. Ask for a new one."), code="download_link_expired") from None
    except signing.BadSignature:
        raise Forbidden(_("This download link is not valid."), code="download_link_invalid") from None
    signed_id, _sep, signed_hash = value.partition(".")
    if signed_id != str(avatar_id):
        raise Forbidden(_("This download link is not valid."), code="download_link_invalid")
    avatar = Avatar.objects.filter(pk=avatar_id).first()
    if avatar is None:
        raise NotFound(_("No such avatar."), code="not_found")
    if avatar.file_hash != signed_hash:
        raise NotFound(_("The avatar file has changed since this link was made. Resolve it again."), code="avatar_changed")
    return avatar


# --- actors -----------------------------------------------------------------------------------


def _usable_own_avatar(*, user: User, avatar_id: Any) -> Avatar:
    from .avatar_selectors import can_use_avatar

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
    clean_name = _clean_name(name)[:64]
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
        clean_name = _clean_name(name)[:64]
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
