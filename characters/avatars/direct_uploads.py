"""Avatar uploads straight to the bucket (STORAGE_BACKEND=s3), seed 001's flow: ask for an upload
URL, send the file to the bucket, finish. The mechanism (tickets, presigned POST, streamed
reading, deletion of the upload object) is avatarforge.direct_uploads; this adds the avatar rules.
"""
from __future__ import annotations

import os
from typing import Any

from django.utils.translation import gettext as _

from accounts.models import User
from avatarforge import direct_uploads
from avatarforge.errors import AppError, PayloadTooLarge

from ..models import Avatar
from . import services

PURPOSE = "avatar"


def start_avatar_upload(*, user: User, filename: str, size: int) -> direct_uploads.Ticket:
    """A ticket to POST one avatar file of `size` bytes to the bucket.

    Raises 409 direct_upload_unavailable (local storage), 400 avatar_file_type / avatar_file_empty,
    413 avatar_too_large. The bucket policy also refuses a file over the plan's limit.
    """
    direct_uploads.require_available()  # before looking at the input
    filename = os.path.basename(str(filename or ""))[:255]
    if not filename.lower().endswith(services.ALLOWED_EXTENSIONS):
        raise AppError(
            _("Upload a .vrm (VRM 0.x or 1.0) or .glb file."),
            code="avatar_file_type",
            details={"allowed": list(services.ALLOWED_EXTENSIONS)},
        )
    if size <= 0:
        raise AppError(_("The file is empty. Choose the avatar file again."), code="avatar_file_empty")
    limit = user.plan.max_avatar_bytes
    if size > limit:
        raise PayloadTooLarge(
            _("The file is %(size)s; your plan allows avatars up to %(limit)s. Reduce texture sizes or polygon count and upload again.")
            % {"size": f"{size / 2**20:.1f} MB", "limit": f"{limit / 2**20:.0f} MB"},
            code="avatar_too_large",
            details={"size": size, "max_bytes": limit},
        )
    return direct_uploads.create_ticket(user_id=user.pk, purpose=PURPOSE, filename=filename, max_bytes=limit)


def claim_avatar_upload(*, user: User, upload_id: str) -> direct_uploads.Claim:
    """The user's pending upload (404 for an unknown or another user's id): checked before the
    request body is validated."""
    return direct_uploads.redeem(ticket_id=upload_id, user_id=user.pk, purpose=PURPOSE)


def finish_avatar_upload(*, user: User, claim: direct_uploads.Claim, **options: Any) -> Avatar:
    """Validate, encrypt and store the file the ticket's upload put in the bucket (read as a
    stream from there); the plaintext upload object is deleted whether the file is accepted or
    refused. `options` are create_avatar_from_file's (on_conflict, name, owner_is_author,
    owner_has_license), with its errors."""
    with direct_uploads.received_object(claim) as stream:
        return services.create_avatar_from_file(owner=user, file=stream, filename=claim.filename, **options)
