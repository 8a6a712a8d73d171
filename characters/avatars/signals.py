"""Stored objects follow their Avatar row: whatever deletes the row (the delete service, admin,
a cascade from a deleted user) also deletes the encrypted file and the thumbnail, after commit.

This is storage housekeeping, not business logic: rules about whether an avatar may be deleted
live in services.delete_avatar.
"""
from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver

from ..models import Avatar
from .storage import delete_stored_objects_on_commit


@receiver(post_delete, sender=Avatar, dispatch_uid="characters.avatars.stored_objects")
def _delete_stored_objects(sender: type[Avatar], instance: Avatar, **kwargs: Any) -> None:
    delete_stored_objects_on_commit(instance)
