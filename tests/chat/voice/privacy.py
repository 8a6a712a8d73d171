"""After a voice conversation: no audio anywhere (database, Redis, media storage, logs)."""
from __future__ import annotations

import os

from django.conf import settings
from django.db import connection

AUDIO_MAGIC = (b"RIFF", b"OggS", b"fLaC", b"ID3", b"\x1aE\xdf\xa3")  # WAV, Ogg/Opus, FLAC, MP3, WebM


def db_binary_values() -> list[tuple[str, int]]:
    """(table, size) of every binary value in the database, and of text values with audio headers."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from the catalog
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        found.append((table, len(bytes(value))))
                    elif isinstance(value, str) and value.encode()[:4] in AUDIO_MAGIC:
                        found.append((table, len(value)))
    return found


def redis_blobs(min_bytes: int = 2048) -> list[bytes]:
    """Keys whose value is a binary blob (PCM would be thousands of non-text bytes)."""
    import redis

    r = redis.Redis.from_url(settings.REDIS_URL)
    out = []
    for key in r.scan_iter("*"):
        if r.type(key) == b"string":
            value = r.get(key) or b""
            if len(value) >= min_bytes and sum(b < 9 for b in value[:512]) > 32:
                out.append(key)
        elif r.type(key) == b"zset":
            # Undelivered channel-layer messages: signaling text is fine, a PCM frame is not
            # (16-bit speech samples are full of 0x00/0xff bytes; SDP and JSON have none).
            for member in r.zrange(key, 0, -1):
                if sum(b < 9 for b in member) > 64:
                    out.append(key)
    return out


def media_audio_files() -> list[str]:
    found = []
    for folder, _dirs, files in os.walk(settings.MEDIA_ROOT):
        for name in files:
            with open(os.path.join(folder, name), "rb") as fh:
                if fh.read(4)[:4] in AUDIO_MAGIC:
                    found.append(name)
    return found
