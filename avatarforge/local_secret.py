"""A SECRET_KEY of this install's own for the embedded and development modes.

Production sets SECRET_KEY. Without it, the embedded mode used to fall back to one constant key
that is in the source code: anyone could then forge signed values (download links, invite
tokens) and read avatar files, whose encryption key is derived from SECRET_KEY when
STORAGE_ENCRYPTION_KEYS is empty. Instead, each install makes a random key the first time it
starts and keeps it in VAR_DIR (owner-only permissions); every process of the install (Daphne,
the worker) reads the same file.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

# The constant the embedded mode used before; only kept so files encrypted under it stay
# readable (characters.avatars.crypto) until `manage.py avatar_rotate_keys` re-encrypts them.
LEGACY_EMBEDDED_SECRET_KEY = "insecure-embedded-default-key-change-me-" + "x" * 20


def local_secret_key(path: Path) -> str:
    """The key stored at `path`, made (atomically, mode 0600) when it does not exist yet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= 50:
            return key
        raise RuntimeError(f"{path} holds no usable secret key; delete it to make a new one.") from None
    key = secrets.token_urlsafe(50)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key
