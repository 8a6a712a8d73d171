"""Direct-to-bucket uploads (STORAGE_BACKEND=s3): the client asks for an upload ticket, sends the
file straight to the bucket with an S3 presigned POST, then asks the server to finish. The bytes
never pass through our web processes on the way in; the server then reads the object from the
bucket as a stream (ranged GETs, see S3RangeReader), validates and encrypts it, and deletes the
plaintext upload object whatever the outcome, so a refused file leaves nothing in the bucket.

Tickets are stateless: the ticket id is a signed token (user, purpose, object key, file name,
size ceiling), so no table is needed and another user's ticket is refused. The presigned POST
policy carries `content-length-range`, so the bucket itself refuses a file over the ceiling.
Objects of tickets that are never completed stay under UPLOAD_PREFIX until
`manage.py purge_direct_uploads` (run it hourly, or use a bucket lifecycle rule on the prefix).
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from .errors import AppError, NotFound, PayloadTooLarge

SALT = "avatarforge.direct-upload"
UPLOAD_PREFIX = "uploads/"
# A ticket can be completed this long after its presigned POST expired (a slow upload that
# started in time may still be arriving when the policy expires).
COMPLETE_GRACE_S = 3600


@dataclass(frozen=True)
class Ticket:
    id: str
    url: str
    fields: dict[str, str]
    expires_in: int
    max_bytes: int


@dataclass(frozen=True)
class Claim:
    key: str
    filename: str
    max_bytes: int


def is_available() -> bool:
    return settings.STORAGE_BACKEND == "s3"


def require_available() -> None:
    if not is_available():
        raise AppError(
            _("Direct uploads need the S3 storage backend; this server stores files locally. Upload the file in the request instead."),
            code="direct_upload_unavailable",
            status=409,
        )


def _bucket() -> Any:
    return default_storage.bucket  # django-storages S3Storage: a boto3 Bucket with our credentials


def _object_name(key: str) -> str:
    from storages.utils import clean_name

    return default_storage._normalize_name(clean_name(key))


def create_ticket(*, user_id: int, purpose: str, filename: str, max_bytes: int) -> Ticket:
    """Presign a POST of one object (1..max_bytes bytes) under UPLOAD_PREFIX for this user."""
    require_available()
    key = f"{UPLOAD_PREFIX}{purpose}/{user_id}/{uuid.uuid4().hex}"
    ttl = settings.STORAGE_PRESIGN_TTL
    bucket = _bucket()
    post = bucket.meta.client.generate_presigned_post(
        Bucket=bucket.name,
        Key=_object_name(key),
        Conditions=[["content-length-range", 1, max_bytes]],
        ExpiresIn=ttl,
    )
    token = signing.dumps({"u": user_id, "p": purpose, "k": key, "f": filename, "m": max_bytes}, salt=SALT, compress=True)
    return Ticket(id=token, url=post["url"], fields=dict(post["fields"]), expires_in=ttl, max_bytes=max_bytes)


def redeem(*, ticket_id: str, user_id: int, purpose: str) -> Claim:
    """The upload a ticket names, if it is this user's, for this purpose, and not too old."""
    require_available()
    try:
        data = signing.loads(ticket_id[:2048], salt=SALT, max_age=settings.STORAGE_PRESIGN_TTL + COMPLETE_GRACE_S)
    except signing.SignatureExpired:
        raise AppError(_("This upload ticket has expired. Ask for a new one and upload again."), code="direct_upload_expired") from None
    except signing.BadSignature:
        raise NotFound(_("No such upload."), code="not_found") from None
    if data.get("u") != user_id or data.get("p") != purpose:
        raise NotFound(_("No such upload."), code="not_found")  # someone else's ticket: as if absent
    return Claim(key=data["k"], filename=data["f"], max_bytes=int(data["m"]))


class S3RangeReader:
    """A read-only, seekable file over one bucket object that never downloads it whole.

    Sequential reads share one streamed GET (`Range: bytes=<pos>-`); a seek elsewhere drops it
    and the next read opens a new ranged GET there. So a validator that jumps around (headers,
    JSON chunk, an image) fetches only what it reads, and a following full pass (hash+encrypt)
    is a single streamed download.
    """

    def __init__(self, obj: Any, size: int) -> None:
        self._obj = obj
        self.size = size
        self._pos = 0
        self._stream: Any = None
        self._stream_pos = -1
        self.closed = False

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def _drop_stream(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def read(self, n: int = -1) -> bytes:
        if self._pos >= self.size or n == 0:
            return b""
        want = self.size - self._pos if n is None or n < 0 else min(n, self.size - self._pos)
        if self._stream is None or self._stream_pos != self._pos:
            self._drop_stream()
            self._stream = self._obj.get(Range=f"bytes={self._pos}-")["Body"]
            self._stream_pos = self._pos
        out = bytearray()
        while len(out) < want:
            piece = self._stream.read(want - len(out))
            if not piece:
                break
            out += piece
        self._pos += len(out)
        self._stream_pos = self._pos
        return bytes(out)

    def close(self) -> None:
        self._drop_stream()
        self.closed = True

    def __enter__(self) -> S3RangeReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def received_object(claim: Claim) -> Iterator[IO[bytes]]:
    """The uploaded object as a seekable stream; the object is deleted when the block ends,
    whether the caller accepted the file or refused it."""
    obj = _bucket().Object(_object_name(claim.key))
    try:
        try:
            size = obj.content_length  # HEAD
        except Exception as exc:  # noqa: BLE001 - botocore raises ClientError subclasses per code
            if _is_missing(exc):
                raise AppError(
                    _("The file has not reached the storage yet. Send it to the upload URL, then finish the upload."),
                    code="direct_upload_missing",
                ) from None
            raise
        if size > claim.max_bytes:
            raise PayloadTooLarge(
                _("The uploaded file is larger than allowed (%(mb)d MB).") % {"mb": claim.max_bytes // 2**20},
                code="avatar_too_large",
                details={"size": size, "max_bytes": claim.max_bytes},
            )
        with S3RangeReader(obj, size) as reader:
            yield reader
    finally:
        obj.delete()  # S3 answers 204 for a missing key too


def _is_missing(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", "")) in ("404", "NoSuchKey", "NotFound")


def purge_stale(*, older_than: timedelta | None = None) -> int:
    """Delete upload objects whose tickets can no longer be completed. Returns how many."""
    if not is_available():
        return 0
    age = timedelta(seconds=settings.STORAGE_PRESIGN_TTL + COMPLETE_GRACE_S) if older_than is None else older_than
    cutoff = datetime.now(UTC) - age
    bucket = _bucket()
    stale = [o.key for o in bucket.objects.filter(Prefix=_object_name(UPLOAD_PREFIX)) if o.last_modified < cutoff]
    for start in range(0, len(stale), 1000):
        bucket.delete_objects(Delete={"Objects": [{"Key": k} for k in stale[start : start + 1000]], "Quiet": True})
    return len(stale)
