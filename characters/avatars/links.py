"""Signed download links: a short-lived URL that fetches an avatar's decrypted file without a
session (the call partner, a resolved cache entry), and the check of such a link's token."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from avatarforge.errors import Forbidden, NotFound

from ..models import Avatar

# Unchanged since the flat layout: tokens already handed out must stay valid across the move.
DOWNLOAD_SALT = "characters.avatar-file"



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

