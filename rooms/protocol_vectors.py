"""Builds docs/protocol.vectors.json, the test vectors both frame codecs (Python and JS) pass.

Run `python -m rooms.protocol_vectors` to rewrite the file; tests/rooms/test_protocol.py checks
that the committed file equals what this module builds, and checks several vectors by hand, so
a change to the codec cannot silently change the contract.
"""
from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

from .protocol import BLENDSHAPE_COUNT, BLENDSHAPE_NAMES, FRAME_BYTES, VERSION, Frame, decode, encode

VECTORS_PATH = Path(__file__).resolve().parent.parent / "docs" / "protocol.vectors.json"


def _q(byte: int) -> float:
    return byte / 255


def _valid_frames() -> list[tuple[str, Frame]]:
    """Frames whose values are already exactly on the quantization grid: decode(encode(f)) == f."""
    ramp = tuple(_q(i * 5) for i in range(BLENDSHAPE_COUNT))  # 0, 5, ..., 255
    mixed = [0.0] * BLENDSHAPE_COUNT
    mixed[0], mixed[9], mixed[10], mixed[25], mixed[44], mixed[45], mixed[51] = (
        _q(200), _q(255), _q(254), _q(128), _q(77), _q(1), _q(3),
    )  # fmt: skip
    return [
        ("all_zeros", Frame()),
        (
            "all_max",
            Frame(
                seq=65535,
                timestamp_ms=4294967295,
                rotation=(3.2767, 3.2767, 3.2767),
                position=(327.67, 327.67, 327.67),
                blendshapes=(1.0,) * BLENDSHAPE_COUNT,
                face_lost=True,
                speaking=True,
            ),
        ),
        (
            "all_min_negative",
            Frame(
                seq=1,
                timestamp_ms=1,
                rotation=(-3.2767, -3.2767, -3.2767),
                position=(-327.67, -327.67, -327.67),
                blendshapes=(0.0,) * BLENDSHAPE_COUNT,
            ),
        ),
        (
            "negative_values_face_lost",
            Frame(
                seq=1234,
                timestamp_ms=123456789,
                rotation=(-0.5, -1.2345, -0.0001),
                position=(-12.34, -0.01, 5.5),
                blendshapes=ramp,
                face_lost=True,
            ),
        ),
        (
            "typical_speaking",
            Frame(
                seq=40000,
                timestamp_ms=2147483648,
                rotation=(0.1, -0.05, 0.0),
                position=(1.25, -2.5, 30.0),
                blendshapes=tuple(mixed),
                speaking=True,
            ),
        ),
        (
            "ramp_blendshape_order",
            Frame(seq=255, timestamp_ms=65536, rotation=(0.0001, 0.0, -0.0001), blendshapes=ramp),
        ),
    ]


def _encode_only() -> list[tuple[str, Frame]]:
    """Values off the grid or out of range: encode must clamp/round/wrap exactly as documented."""
    scores = [0.0] * BLENDSHAPE_COUNT
    scores[0], scores[1], scores[2], scores[3], scores[4], scores[5] = -0.5, 1.5, 0.0019, 0.0021, 0.999, 0.7
    return [
        (
            "clamping",
            Frame(
                seq=7,
                timestamp_ms=1000,
                rotation=(5.0, -5.0, 1_000_000.0),
                position=(1000.0, -1000.0, 0.004),
                blendshapes=tuple(scores),
            ),
        ),
        ("seq_and_timestamp_wrap", Frame(seq=65536 + 2, timestamp_ms=4294967296 + 5, speaking=True)),
        (
            "rounding",
            Frame(
                seq=3,
                timestamp_ms=3,
                rotation=(0.12344, -0.12346, 0.00004),
                position=(0.125, -0.125, -1.236),
                blendshapes=(0.3,) * BLENDSHAPE_COUNT,
            ),
        ),
    ]


def _round_values(values: dict) -> dict:
    """Trim float noise (e.g. 1.2345000000000002) so the JSON reads as the documented numbers."""
    out = dict(values)
    out["rotation"] = [round(v, 4) for v in values["rotation"]]
    out["position"] = [round(v, 2) for v in values["position"]]
    return out


def build_vectors() -> dict:
    valid = []
    for name, frame in _valid_frames():
        data = encode(frame)
        valid.append({"name": name, "hex": data.hex(), "values": _round_values(decode(data).as_values())})

    encode_only = []
    for name, frame in _encode_only():
        data = encode(frame)
        encode_only.append(
            {
                "name": name,
                "values": frame.as_values(),
                "hex": data.hex(),
                "decoded": _round_values(decode(data).as_values()),
            }
        )

    reserved = bytearray(encode(Frame(seq=9, timestamp_ms=9, speaking=True)))
    reserved[1] = 0xFE  # bit1 (speaking) plus reserved bits 2-7, which decoders ignore
    decode_only = [
        {
            "name": "reserved_flag_bits_ignored",
            "hex": bytes(reserved).hex(),
            "values": _round_values(decode(bytes(reserved)).as_values()),
        }
    ]

    good = encode(Frame())
    invalid = [
        {"name": "empty", "hex": "", "error": "bad_length"},
        {"name": "one_byte_short", "hex": good[:-1].hex(), "error": "bad_length"},
        {"name": "one_byte_long", "hex": (good + b"\x00").hex(), "error": "bad_length"},
        {"name": "short_with_bad_version_is_bad_length", "hex": ("02" + "00" * 70), "error": "bad_length"},
        {"name": "version_0", "hex": ("00" + good[1:].hex()), "error": "bad_version"},
        {"name": "version_2", "hex": ("02" + good[1:].hex()), "error": "bad_version"},
        {"name": "version_255", "hex": ("ff" + good[1:].hex()), "error": "bad_version"},
    ]
    return {
        "about": (
            "Avatar parameter frame v1 test vectors (docs/protocol.md). valid: decode(hex) == values "
            "(within 1/255 for scores, 1e-4 rad, 0.01 cm) and encode(values) == hex. encode_only: "
            "encode(values) == hex and decode(hex) == decoded. decode_only: decode(hex) == values. "
            "invalid: decode(hex) fails with error."
        ),
        "version": VERSION,
        "frame_bytes": FRAME_BYTES,
        "struct": "<BBHI3h3h52B",
        "blendshape_names": list(BLENDSHAPE_NAMES),
        "valid": valid,
        "encode_only": encode_only,
        "decode_only": decode_only,
        "invalid": invalid,
    }


def render() -> str:
    return json.dumps(build_vectors(), indent=1) + "\n"


def main() -> int:
    VECTORS_PATH.parent.mkdir(parents=True, exist_ok=True)
    VECTORS_PATH.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {VECTORS_PATH}\n")
    return 0


assert struct.calcsize("<BBHI3h3h52B") == FRAME_BYTES

if __name__ == "__main__":
    raise SystemExit(main())
