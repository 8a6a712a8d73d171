"""Where avatar bytes live: the storage backend, streamed reads of stored objects, decryption on
the way out, and deleting objects once the rows that point at them are gone.

Storage discipline: objects are written to storage before the row is committed and deleted
again if anything after that fails; objects a committed change makes obsolete are deleted after
the commit (transaction.on_commit). Rules about *whether* something may be deleted live in
services.py; this module only moves bytes.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import IO

from django.core.files.storage import Storage, default_storage
from django.db import transaction

from ..models import Avatar
from . import crypto

logger = logging.getLogger(__name__)


def storage() -> Storage:
    return default_storage


def delete_quietly(name: str) -> None:
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
        yield from crypto.decrypt_stream(handle)
    finally:
        handle.close()


def delete_stored_objects_on_commit(avatar: Avatar) -> None:
    """After the surrounding transaction commits, delete the avatar's stored objects. Connected
    to post_delete (characters.avatars.signals), so cascades (a deleted user) clean up too."""
    objects = [o for o in (avatar.storage_key, avatar.thumbnail_key) if o]
    transaction.on_commit(lambda: [delete_quietly(o) for o in objects])


def read_thumbnail(avatar: Avatar) -> bytes:
    with storage().open(avatar.thumbnail_key, "rb") as fh:
        return fh.read(4 * 1024 * 1024)

