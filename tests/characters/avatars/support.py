"""Helpers for the avatar library tests: fixture paths and a GLB builder for malformed files."""
from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from typing import Any

from django.conf import settings

FIXTURES = Path(settings.BASE_DIR).parent / "shared" / "fixtures" / "vrm"
GODETTE = FIXTURES / "Godette_vrm_v4.vrm"
ROBOT = FIXTURES / "debug_robot.vrm"
SPHERE = FIXTURES / "sphere.vrm"


def split_glb(data: bytes) -> tuple[dict[str, Any], bytes]:
    """(JSON, BIN chunk bytes) of a GLB."""
    (json_len,) = struct.unpack("<I", data[12:16])
    gltf = json.loads(data[20 : 20 + json_len])
    rest = data[20 + json_len :]
    bin_chunk = b""
    if len(rest) >= 8:
        (bin_len,) = struct.unpack("<I", rest[:4])
        bin_chunk = rest[8 : 8 + bin_len]
    return gltf, bin_chunk


def build_glb(gltf: Any, bin_chunk: bytes = b"", *, raw_json: bytes | None = None) -> bytes:
    """A GLB with the given JSON (any value, or raw bytes) and BIN chunk, lengths all correct."""
    body = raw_json if raw_json is not None else json.dumps(gltf).encode()
    body += b" " * (-len(body) % 4)
    out = struct.pack("<I4s", len(body), b"JSON") + body
    if bin_chunk:
        padded = bin_chunk + b"\0" * (-len(bin_chunk) % 4)
        out += struct.pack("<I4s", len(padded), b"BIN\0") + padded
    return struct.pack("<4sII", b"glTF", 2, 12 + len(out)) + out


def fixture_parts(path: Path) -> tuple[dict[str, Any], bytes]:
    return split_glb(path.read_bytes())


def modified(path: Path, change) -> bytes:
    """The fixture rebuilt after `change(gltf)` edits its JSON in place."""
    gltf, bin_chunk = fixture_parts(path)
    change(gltf)
    return build_glb(gltf, bin_chunk)


def minimal_gltf() -> bytes:
    """A plain glTF (no VRM): one triangle."""
    positions = struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0)
    gltf = {
        "asset": {"version": "2.0", "generator": "test"},
        "buffers": [{"byteLength": len(positions)}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": len(positions)}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3", "min": [0, 0, 0], "max": [1, 1, 0]}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "nodes": [{"mesh": 0}],
        "scenes": [{"nodes": [0]}],
        "scene": 0,
    }
    return build_glb(gltf, positions)


def media_files(root: Path) -> list[Path]:
    return sorted(p for p in Path(root).rglob("*") if p.is_file())


def upload_file(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def as_stream(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)
