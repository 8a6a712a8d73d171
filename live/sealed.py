"""Small secrets (OAuth tokens) sealed with the platform's storage keyring, so key rotation
covers them like avatar files."""
from __future__ import annotations

import io

from characters.avatars.crypto import Encryptor, decrypt_stream


def seal(value: str) -> bytes:
    enc = Encryptor()
    return enc.update(value.encode()) + enc.finalize()


def unseal(blob: bytes | memoryview) -> str:
    return b"".join(decrypt_stream(io.BytesIO(bytes(blob)))).decode()
