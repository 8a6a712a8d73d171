"""Encryption at rest for stored avatar files: chunked AES-256-GCM that streams both ways.

Why not Fernet: Fernet authenticates a whole message at once, so a 200 MB avatar would have to
sit in memory to encrypt or decrypt. Here the plaintext is cut into 1 MiB chunks, each sealed
with its own nonce, so memory stays at about one chunk whatever the file size, and the bytes can
be decrypted while they are being sent to the browser.

Object layout (all integers big-endian):
    header  = b"AFE1" | key_id_len (1 byte) | key_id (ascii) | chunk_size (4) | file_nonce (8)
    chunk_i = AES-GCM(key, nonce = file_nonce | i (4 bytes), plaintext_i,
                      aad = header | i (4 bytes) | final flag (1 byte))   -> ciphertext_i + 16-byte tag
Every chunk but the last holds exactly chunk_size plaintext bytes; the last holds fewer (maybe
zero), and is sealed with final flag 1. So truncation, reordering, dropping or appending chunks
and swapping chunks between files (different file_nonce and header) all fail authentication.

Keys: settings.STORAGE_ENCRYPTION_KEYS, newest first, each urlsafe-base64 of 32 random bytes
(`python -c "import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).decode())"`). The key
id stored in the header is the first 8 hex digits of SHA-256(key), so old objects stay readable
after a new key is prepended; `manage.py avatar_rotate_keys` re-encrypts them with the newest.
When the list is empty a key is derived from SECRET_KEY: that is for the embedded/dev/test mode
only (anyone with SECRET_KEY can read the files, and changing SECRET_KEY makes them unreadable).

Works with any Django storage backend: it only needs `open(name, "rb")` and `save(name, File)`.
"""
from __future__ import annotations

import base64
import hashlib
import os
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MAGIC = b"AFE1"
CHUNK_SIZE = 1024 * 1024
TAG_SIZE = 16
NONCE_PREFIX_SIZE = 8


class DecryptionError(Exception):
    """Stored bytes that do not authenticate: damaged, truncated, or sealed with an unknown key."""


@dataclass(frozen=True)
class Key:
    id: str
    secret: bytes


def _key_id(secret: bytes) -> str:
    return hashlib.sha256(secret).hexdigest()[:8]


def keyring() -> list[Key]:
    """Configured keys, newest first. Read on every call so tests and rotation see new settings."""
    raw = list(getattr(settings, "STORAGE_ENCRYPTION_KEYS", []) or [])
    keys: list[Key] = []
    for i, item in enumerate(raw):
        try:
            secret = base64.urlsafe_b64decode(item.encode() + b"=" * (-len(item) % 4))
        except (ValueError, TypeError):
            secret = b""
        if len(secret) != 32:
            raise ImproperlyConfigured(
                f"STORAGE_ENCRYPTION_KEYS item {i + 1} must be urlsafe base64 of 32 bytes (see .env.example)."
            )
        keys.append(Key(id=_key_id(secret), secret=secret))
    if not keys:
        # Embedded/dev/test only: derived from SECRET_KEY so a fresh install works with no setup.
        keys.append(_derived_key(settings.SECRET_KEY))
        from avatarforge.local_secret import LEGACY_EMBEDDED_SECRET_KEY

        if settings.SECRET_KEY != LEGACY_EMBEDDED_SECRET_KEY:
            # Files an older embedded install wrote under the public constant key stay readable
            # (never written with it again); avatar_rotate_keys moves them to the current key.
            keys.append(_derived_key(LEGACY_EMBEDDED_SECRET_KEY))
    return keys


def _derived_key(secret_key: str) -> Key:
    secret = hashlib.sha256(b"avatarforge-storage-key|" + secret_key.encode()).digest()
    return Key(id=_key_id(secret), secret=secret)


def current_key() -> Key:
    return keyring()[0]


def _find_key(key_id: str) -> Key:
    for key in keyring():
        if key.id == key_id:
            return key
    raise DecryptionError(f"No configured key has id {key_id!r}; was it removed from STORAGE_ENCRYPTION_KEYS?")


def _header(key: Key, chunk_size: int, file_nonce: bytes) -> bytes:
    kid = key.id.encode("ascii")
    return MAGIC + bytes([len(kid)]) + kid + struct.pack(">I", chunk_size) + file_nonce


def _aad(header: bytes, index: int, final: bool) -> bytes:
    return header + struct.pack(">IB", index, 1 if final else 0)


class Encryptor:
    """Feed plaintext in any pieces with update(); each call returns ciphertext ready to write."""

    def __init__(self, key: Key | None = None, chunk_size: int = CHUNK_SIZE) -> None:
        self.key = key or current_key()
        self._aes = AESGCM(self.key.secret)
        self._chunk_size = chunk_size
        self._nonce = os.urandom(NONCE_PREFIX_SIZE)
        self.header = _header(self.key, chunk_size, self._nonce)
        self._pending = bytearray()
        self._index = 0
        self._started = False

    def _seal(self, data: bytes, final: bool) -> bytes:
        nonce = self._nonce + struct.pack(">I", self._index)
        out = self._aes.encrypt(nonce, data, _aad(self.header, self._index, final))
        self._index += 1
        if self._index >= 2**32:
            raise ValueError("file too large for this format")
        return out

    def update(self, data: bytes) -> bytes:
        out = bytearray()
        if not self._started:
            out += self.header
            self._started = True
        self._pending += data
        # Keep at least one byte back unless a full chunk is followed by more data, so the last
        # chunk is always shorter than chunk_size (possibly empty) and carries the final flag.
        while len(self._pending) > self._chunk_size:
            out += self._seal(bytes(self._pending[: self._chunk_size]), final=False)
            del self._pending[: self._chunk_size]
        return bytes(out)

    def finalize(self) -> bytes:
        out = bytearray()
        if not self._started:
            out += self.header
            self._started = True
        if len(self._pending) == self._chunk_size:
            out += self._seal(bytes(self._pending), final=False)
            self._pending.clear()
        out += self._seal(bytes(self._pending), final=True)
        self._pending.clear()
        return bytes(out)


def read_header(stream: IO[bytes]) -> tuple[bytes, Key, int, bytes]:
    """(header bytes, key, chunk size, file nonce) of an encrypted stream positioned at 0."""
    start = stream.read(5)
    if len(start) != 5 or start[:4] != MAGIC:
        raise DecryptionError("not an AvatarForge encrypted object")
    kid_len = start[4]
    rest = stream.read(kid_len + 4 + NONCE_PREFIX_SIZE)
    if len(rest) != kid_len + 4 + NONCE_PREFIX_SIZE:
        raise DecryptionError("truncated header")
    kid = rest[:kid_len].decode("ascii", "replace")
    (chunk_size,) = struct.unpack(">I", rest[kid_len : kid_len + 4])
    if not 1 <= chunk_size <= 64 * 1024 * 1024:
        raise DecryptionError("bad chunk size")
    return start + rest, _find_key(kid), chunk_size, rest[kid_len + 4 :]


def key_id_of(stream: IO[bytes]) -> str:
    return read_header(stream)[1].id


def decrypt_stream(stream: IO[bytes]) -> Iterator[bytes]:
    """Yield plaintext chunk by chunk. Raises DecryptionError on any tampering or truncation.

    Note for streaming responses: bytes of earlier chunks are already sent when a later chunk
    fails; the client then sees a short body (its Content-Length does not match) and the error
    is logged, which is the usual behaviour for a failed download.
    """
    header, key, chunk_size, file_nonce = read_header(stream)
    aes = AESGCM(key.secret)
    full = chunk_size + TAG_SIZE
    index = 0
    while True:
        block = stream.read(full)
        while len(block) < full:
            more = stream.read(full - len(block))
            if not more:
                break
            block += more
        final = len(block) < full
        if final and len(block) < TAG_SIZE:
            raise DecryptionError("truncated object")
        nonce = file_nonce + struct.pack(">I", index)
        try:
            plain = aes.decrypt(nonce, bytes(block), _aad(header, index, final))
        except InvalidTag:
            raise DecryptionError(f"chunk {index} does not authenticate") from None
        if plain:
            yield plain
        if final:
            if stream.read(1):
                raise DecryptionError("data after the final chunk")
            return
        index += 1


def encrypt_file_to_temp(source: IO[bytes], *, hasher: hashlib._Hash | None = None, key: Key | None = None,
                         read_size: int = CHUNK_SIZE) -> tuple[IO[bytes], int]:
    """Encrypt `source` (read from its current position to the end) into a new temporary file.

    Returns (temp file positioned at 0, plaintext byte count). Updates `hasher` with the
    plaintext, so hashing and encryption share one read. Memory stays at about two chunks.
    The caller closes the temp file (it is deleted on close).
    """
    enc = Encryptor(key)
    out = tempfile.TemporaryFile(prefix="avatar-enc-")  # noqa: SIM115 - returned to the caller
    total = 0
    try:
        while True:
            block = source.read(read_size)
            if not block:
                break
            total += len(block)
            if hasher is not None:
                hasher.update(block)
            out.write(enc.update(block))
        out.write(enc.finalize())
        out.flush()
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return out, total


def reencrypt_to_temp(stream: IO[bytes], key: Key | None = None) -> IO[bytes]:
    """Decrypt an encrypted stream and encrypt it again with `key` (the newest by default)."""
    enc = Encryptor(key)
    out = tempfile.TemporaryFile(prefix="avatar-rekey-")  # noqa: SIM115 - returned to the caller
    try:
        for plain in decrypt_stream(stream):
            out.write(enc.update(plain))
        out.write(enc.finalize())
        out.flush()
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return out
