"""Benchmark of the avatar upload service (characters.avatars.services.create_avatar_from_file).

    python -m bench.vrm_ingest [--runs N] [--keep]

Prints:
    FIGURE vrm_ingest_godette_ms <median of N runs> ms      (goal < 100)
    FIGURE vrm_ingest_200mb_ms <one run> ms                 (goal < 5000)
    FIGURE vrm_ingest_200mb_peak_rss_mb <growth> MB         (goal < 64)

The whole service is measured: parse, normalize, thumbnail, hash + encrypt, store, row write.
It runs against a throw-away SQLite database and media folder in a temporary directory (made and
migrated first), so it touches nothing configured. The 200 MB file is the Godette fixture with
a large, valid PNG texture (random pixels, stored uncompressed) added to its binary chunk; it is
built at run time. Peak RSS growth = the process's peak RSS (getrusage) after the 200 MB
ingest minus its current RSS right before it, measured in a worker process that has already
done the Godette runs (so imports and caches are warm).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import sys
import zlib
from pathlib import Path

from bench.isolated import isolated_project, run_worker

ROOT = Path(__file__).resolve().parent.parent
GODETTE = ROOT.parent / "shared" / "fixtures" / "vrm" / "Godette_vrm_v4.vrm"
TARGET_BYTES = 200 * 1024 * 1024 - 64 * 1024  # just under the 200 MB plan limit


def _png_chunk(out, kind: bytes, data: bytes) -> None:
    out.write(struct.pack(">I", len(data)) + kind + data)
    out.write(struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def write_big_png(path: Path, size: int) -> None:
    """A valid RGB PNG of about `size` bytes, written in pieces (never whole in memory)."""
    width = 8192
    row_bytes = 1 + width * 3
    height = max(1, size // row_bytes)
    pool = [b"\0" + os.urandom(width * 3) for _ in range(32)]
    compressor = zlib.compressobj(level=0)
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        _png_chunk(out, b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        pending = bytearray()
        for y in range(height):
            pending += compressor.compress(pool[y % len(pool)])
            if len(pending) >= 4 * 1024 * 1024:
                _png_chunk(out, b"IDAT", bytes(pending))
                pending.clear()
        pending += compressor.flush()
        _png_chunk(out, b"IDAT", bytes(pending))
        _png_chunk(out, b"IEND", b"")


def build_big_vrm(path: Path, target: int = TARGET_BYTES) -> int:
    """Godette plus one large texture, padded to about `target` bytes. Returns the file size."""
    data = GODETTE.read_bytes()
    (json_len,) = struct.unpack("<I", data[12:16])
    gltf = json.loads(data[20 : 20 + json_len])
    (bin_len,) = struct.unpack("<I", data[20 + json_len : 24 + json_len])
    bin_chunk = data[28 + json_len : 28 + json_len + bin_len]
    bin_chunk += b"\0" * (-len(bin_chunk) % 4)

    png_path = path.with_suffix(".png")
    # JSON and headers are small; leave them room inside the target.
    write_big_png(png_path, target - len(data) - 4096)
    png_size = png_path.stat().st_size
    gltf["buffers"][0]["byteLength"] = len(bin_chunk) + png_size
    gltf["bufferViews"].append({"buffer": 0, "byteOffset": len(bin_chunk), "byteLength": png_size})
    gltf["images"].append({"name": "large_texture", "bufferView": len(gltf["bufferViews"]) - 1, "mimeType": "image/png"})
    gltf["textures"].append({"sampler": 0, "source": len(gltf["images"]) - 1})
    body = json.dumps(gltf).encode()
    body += b" " * (-len(body) % 4)
    bin_total = len(bin_chunk) + png_size
    bin_pad = -bin_total % 4
    total = 12 + 8 + len(body) + 8 + bin_total + bin_pad
    with open(path, "wb") as out, open(png_path, "rb") as png:
        out.write(struct.pack("<4sII", b"glTF", 2, total))
        out.write(struct.pack("<I4s", len(body), b"JSON") + body)
        out.write(struct.pack("<I4s", bin_total + bin_pad, b"BIN\0") + bin_chunk)
        shutil.copyfileobj(png, out, 1024 * 1024)
        out.write(b"\0" * bin_pad)
    png_path.unlink()
    return total


def worker(big_path: str, runs: int) -> None:
    """Runs inside the measuring subprocess; prints one JSON line."""
    import resource
    import statistics
    import time

    import django

    django.setup()
    import psutil

    from accounts.models import User
    from characters.avatars.services import create_avatar_from_file

    users = iter(User.objects.create_user(email=f"bench{i}@example.com", password="bench-password-1") for i in range(10**6))

    def ingest(path: Path) -> float:
        user = next(users)  # a fresh owner each run: no duplicate, nothing to delete
        start = time.perf_counter()
        create_avatar_from_file(owner=user, file=path, filename=path.name)
        return (time.perf_counter() - start) * 1000

    ingest(GODETTE)  # warm-up: imports, first queries
    godette = [ingest(GODETTE) for _ in range(runs)]

    process = psutil.Process()
    rss_before = process.memory_info().rss
    start = time.perf_counter()
    avatar = create_avatar_from_file(owner=next(users), file=Path(big_path), filename="big.vrm")
    big_ms = (time.perf_counter() - start) * 1000
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    assert avatar.file_size == Path(big_path).stat().st_size
    print(json.dumps({
        "godette_ms": statistics.median(godette),
        "big_ms": big_ms,
        "big_bytes": avatar.file_size,
        "peak_growth_mb": max(0, peak - rss_before) / 2**20,
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.runs)
        return

    with isolated_project("vrm-ingest", keep=args.keep) as (workdir, env):
        big = workdir / "big.vrm"
        build_big_vrm(big)
        figures = run_worker(["-m", "bench.vrm_ingest", "--worker", str(big), "--runs", str(args.runs)], env)
    print(f"# big file: {figures['big_bytes']} bytes; Godette median of {args.runs} runs", file=sys.stderr)
    print(f"FIGURE vrm_ingest_godette_ms {figures['godette_ms']:.1f} ms")
    print(f"FIGURE vrm_ingest_200mb_ms {figures['big_ms']:.0f} ms")
    print(f"FIGURE vrm_ingest_200mb_peak_rss_mb {figures['peak_growth_mb']:.1f} MB")


if __name__ == "__main__":
    main()
