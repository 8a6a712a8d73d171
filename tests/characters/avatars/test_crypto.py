"""Chunked AES-GCM encryption at rest: round trips, tampering, truncation, keys."""
from __future__ import annotations

import base64
import hashlib
import io
import os

import pytest
from django.core.exceptions import ImproperlyConfigured

from characters.avatars import crypto as sc


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def encrypt(data: bytes, chunk: int = 64) -> bytes:
    enc = sc.Encryptor(chunk_size=chunk)
    out = bytearray()
    # feed in odd pieces to exercise buffering
    for i in range(0, len(data), 37):
        out += enc.update(data[i : i + 37])
    out += enc.finalize()
    return bytes(out)


def decrypt(blob: bytes) -> bytes:
    return b"".join(sc.decrypt_stream(io.BytesIO(blob)))


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 128, 1000])
def test_round_trip_all_chunk_boundaries(size):
    data = os.urandom(size)
    blob = encrypt(data)
    assert size < 16 or data not in blob
    assert decrypt(blob) == data


def test_file_round_trip_hashes_while_encrypting():
    data = os.urandom(3 * sc.CHUNK_SIZE + 17)
    hasher = hashlib.sha256()
    out, size = sc.encrypt_file_to_temp(io.BytesIO(data), hasher=hasher)
    with out:
        assert size == len(data)
        assert hasher.hexdigest() == hashlib.sha256(data).hexdigest()
        blob = out.read()
    assert len(blob) == len(data) + 4 * sc.TAG_SIZE + len(sc.current_key().id) + 17
    assert decrypt(blob) == data


def test_tampered_byte_fails():
    blob = bytearray(encrypt(b"a" * 300))
    blob[-20] ^= 1
    with pytest.raises(sc.DecryptionError):
        decrypt(bytes(blob))


def test_truncation_at_a_chunk_boundary_fails():
    data = b"b" * 256  # 4 full chunks of 64 + an empty final chunk
    blob = encrypt(data)
    header_len = len(blob) - (4 * (64 + 16) + 16)
    truncated = blob[: header_len + 2 * (64 + 16)]  # two whole chunks, final flag missing
    with pytest.raises(sc.DecryptionError):
        decrypt(truncated)


def test_appended_data_fails():
    with pytest.raises(sc.DecryptionError):
        decrypt(encrypt(b"c" * 10) + b"x")


def test_swapped_chunks_fail():
    blob = encrypt(b"0" * 64 + b"1" * 64 + b"2")
    header_len = len(blob) - (2 * 80 + 17)
    head, c0, c1, rest = blob[:header_len], blob[header_len : header_len + 80], blob[header_len + 80 : header_len + 160], blob[header_len + 160 :]
    with pytest.raises(sc.DecryptionError):
        decrypt(head + c1 + c0 + rest)


def test_not_an_encrypted_object():
    with pytest.raises(sc.DecryptionError):
        decrypt(b"glTF plaintext")


def test_rotation_keeps_old_objects_readable(settings):
    old, new = new_key(), new_key()
    settings.STORAGE_ENCRYPTION_KEYS = [old]
    blob = encrypt(b"secret avatar")
    settings.STORAGE_ENCRYPTION_KEYS = [new, old]
    assert decrypt(blob) == b"secret avatar"
    assert sc.key_id_of(io.BytesIO(blob)) != sc.current_key().id
    rewritten = sc.reencrypt_to_temp(io.BytesIO(blob))
    with rewritten:
        fresh = rewritten.read()
    assert sc.key_id_of(io.BytesIO(fresh)) == sc.current_key().id
    settings.STORAGE_ENCRYPTION_KEYS = [new]
    assert decrypt(fresh) == b"secret avatar"
    with pytest.raises(sc.DecryptionError):
        decrypt(blob)  # the old key is gone


def test_derived_key_when_none_configured(settings):
    settings.STORAGE_ENCRYPTION_KEYS = []
    first = sc.current_key()
    assert len(first.secret) == 32
    settings.SECRET_KEY = "another-secret-key-" + "y" * 40
    assert sc.current_key().id != first.id


def test_bad_key_configuration(settings):
    settings.STORAGE_ENCRYPTION_KEYS = ["short"]
    with pytest.raises(ImproperlyConfigured):
        sc.current_key()
