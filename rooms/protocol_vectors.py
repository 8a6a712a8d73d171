"""Builds docs/protocol.vectors.json, the test vectors both frame codecs (Python and JS) pass.

Run `python -m rooms.protocol_vectors` to rewrite the file; tests/rooms/test_protocol.py checks
that the committed file equals what this module builds, and checks several vectors by hand, so
a change to the codec cannot silently change the contract.
"""
from __future__ import annotations

import json
import math
import struct
import sys
from pathlib import Path

from .protocol import (
    BLENDSHAPE_COUNT,
    BLENDSHAPE_NAMES,
    BODY_BONES,
    FINGER_COUNT,
    FINGERS,
    FRAME_BYTES,
    FRAME_V2_BODY_BYTES,
    IDENTITY,
    VERSION,
    VERSION_2,
    Body,
    Frame,
    decode,
    encode,
)

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
    if out.get("body"):
        body = dict(out["body"])
        body["bones"] = [[round(c, 6) for c in q] for q in body["bones"]]
        out["body"] = body
    return out


def _axis_angle(axis: tuple[float, float, float], angle: float) -> tuple[float, float, float, float]:
    n = math.sqrt(sum(c * c for c in axis))
    s = math.sin(angle / 2) / n
    return (axis[0] * s, axis[1] * s, axis[2] * s, math.cos(angle / 2))


def _bones(**rotations: tuple[float, float, float, float]) -> tuple[tuple[float, float, float, float], ...]:
    return tuple(rotations.get(name, IDENTITY) for name in BODY_BONES)


def _fingers(left: list[float], right: list[float]) -> tuple[float, ...]:
    """Per hand one [spread, curl1, curl2, curl3] for each finger, repeated from the list given."""
    per_hand = len(FINGERS) * 4
    return tuple((left * per_hand)[:per_hand] + (right * per_hand)[:per_hand])


def _v2_valid() -> list[tuple[str, Frame]]:
    """Version 2 frames; the builder stores decode(encode(f)), so values sit on the grid."""
    raised = _bones(
        spine=_axis_angle((0, 1, 0), 0.1),
        chest=_axis_angle((1, 0, 0), -0.05),
        neck=_axis_angle((0, 0, 1), 0.2),
        leftShoulder=_axis_angle((0, 0, 1), 0.15),
        rightShoulder=_axis_angle((0, 0, 1), -0.1),
        leftUpperArm=_axis_angle((0, 0, 1), 1.4),  # left arm raised up beside the head
        rightUpperArm=_axis_angle((0, 0, 1), -1.2),  # right arm down at the side
        leftLowerArm=_axis_angle((0, 1, 0), 1.2),  # elbow bent
        rightLowerArm=_axis_angle((0, 1, 0), -0.3),
        leftHand=_axis_angle((1, 0, 0), 0.4),
        rightHand=_axis_angle((1, 2, 3), -0.25),
    )
    extremes = _bones(
        spine=(1.0, 0.0, 0.0, 0.0),  # half turns: w == 0
        chest=(0.0, -1.0, 0.0, 0.0),
        neck=(0.0, 0.0, 1.0, 0.0),
        leftUpperArm=(0.5, -0.5, 0.5, 0.5),
    )
    return [
        ("v2_no_body", Frame(version=VERSION_2, seq=10, timestamp_ms=1000, rotation=(0.1, 0.0, -0.1))),
        (
            "v2_body_both_hands",
            Frame(
                version=VERSION_2,
                seq=4242,
                timestamp_ms=987654321,
                rotation=(0.12, -0.03, 0.05),
                position=(1.5, -2.0, -45.0),
                blendshapes=tuple(_q(i * 5) for i in range(BLENDSHAPE_COUNT)),
                speaking=True,
                body=Body(
                    bones=raised,
                    fingers=_fingers([0.1, 0.2, 0.5, 0.3], [-0.05, 1.5, 1.6, 1.0]),  # open left, fist right
                    left_hand=True,
                    right_hand=True,
                ),
            ),
        ),
        (
            "v2_body_hands_lost_face_lost",
            Frame(version=VERSION_2, seq=65535, timestamp_ms=4294967295, face_lost=True,
                  body=Body(bones=raised, fingers=(0.0,) * FINGER_COUNT)),
        ),
        (
            "v2_body_extremes",
            Frame(version=VERSION_2, seq=1, timestamp_ms=1, body=Body(
                bones=extremes, fingers=_fingers([127 / 64, -127 / 64], [-127 / 64, 127 / 64]),
                left_hand=True, right_hand=False)),
        ),
    ]  # fmt: skip


def _v2_encode_only() -> list[tuple[str, Frame]]:
    """Bone quaternions off the unit sphere or with w < 0, non-finite values, finger clamping."""
    bones = _bones(
        spine=(0.0, 0.0, -math.sin(0.25), -math.cos(0.25)),  # w < 0: sent as its negation
        chest=(0.0, 2 * math.sin(0.1), 0.0, 2 * math.cos(0.1)),  # not unit: normalized
        neck=(math.nan, 0.0, 0.0, 1.0),  # non-finite: identity
        leftShoulder=(0.0, 0.0, 0.0, 0.0),  # zero: identity
        leftHand=(0.3, -0.3, 0.3, 0.0),
    )
    fingers = [0.0] * FINGER_COUNT
    fingers[:8] = [5.0, -5.0, math.inf, -math.inf, math.nan, 0.0078125, -0.0078125, 0.0234375]
    return [
        (
            "v2_quaternion_canonical_and_clamping",
            Frame(version=VERSION_2, seq=65536 + 7, timestamp_ms=77,
                  body=Body(bones=bones, fingers=tuple(fingers), right_hand=True)),
        ),
    ]  # fmt: skip


def _v2_groups() -> dict:
    valid = []
    for name, frame in _v2_valid():
        data = encode(frame)
        valid.append({"name": name, "hex": data.hex(), "values": _round_values(decode(data).as_values())})
    encode_only = []
    for name, frame in _v2_encode_only():
        data = encode(frame)
        values = frame.as_values()
        # JSON has no NaN/Infinity: non-finite inputs are written as strings the tests turn back.
        values["body"]["bones"] = [[_json_number(c) for c in q] for q in values["body"]["bones"]]
        values["body"]["fingers"] = [_json_number(v) for v in values["body"]["fingers"]]
        encode_only.append(
            {"name": name, "values": values, "hex": data.hex(), "decoded": _round_values(decode(data).as_values())}
        )
    body_frame = encode(_v2_valid()[1][1])
    reserved = bytearray(body_frame)
    reserved[1] |= 0xE0  # bits 5-7 are reserved in version 2 and ignored
    v1_flags = bytearray(encode(Frame(seq=5, timestamp_ms=5)))
    v1_flags[1] = 0x1C  # body/hand bits on a version 1 frame mean nothing: no body
    decode_only = [
        {"name": "v2_reserved_flag_bits_ignored", "hex": bytes(reserved).hex(),
         "values": _round_values(decode(bytes(reserved)).as_values())},
        {"name": "v1_body_flag_bits_ignored", "hex": bytes(v1_flags).hex(),
         "values": _round_values(decode(bytes(v1_flags)).as_values())},
    ]  # fmt: skip
    no_body = encode(Frame(version=VERSION_2))
    flag_without_body = bytearray(no_body)
    flag_without_body[1] = 0x04
    body_without_flag = bytearray(body_frame)
    body_without_flag[1] &= ~0x04 & 0xFF
    invalid = [
        {"name": "v2_body_flag_without_body", "hex": bytes(flag_without_body).hex(), "error": "bad_length"},
        {"name": "v2_body_without_body_flag", "hex": bytes(body_without_flag).hex(), "error": "bad_length"},
        {"name": "v1_with_body_bytes", "hex": "01" + body_frame[1:].hex(), "error": "bad_length"},
        {"name": "v2_body_one_byte_short", "hex": body_frame[:-1].hex(), "error": "bad_length"},
        {"name": "v2_body_one_byte_long", "hex": (body_frame + b"\x00").hex(), "error": "bad_length"},
        {"name": "version_3_with_body", "hex": "03" + body_frame[1:].hex(), "error": "bad_version"},
    ]
    return {
        "about": (
            "Frame v2 vectors (docs/protocol.md section 1b). Same groups as v1. Bones compare within "
            "1e-5 per quaternion component, fingers within 1/64 rad; strings \"NaN\", \"Infinity\", "
            "\"-Infinity\" in encode_only values stand for those numbers."
        ),
        "version": VERSION_2,
        "frame_bytes": [FRAME_BYTES, FRAME_V2_BODY_BYTES],
        "bone_names": list(BODY_BONES),
        "finger_names": list(FINGERS),
        "valid": valid,
        "encode_only": encode_only,
        "decode_only": decode_only,
        "invalid": invalid,
    }  # fmt: skip


def _json_number(v: float) -> float | str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


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
        {"name": "version_3", "hex": ("03" + good[1:].hex()), "error": "bad_version"},
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
        "v2": _v2_groups(),
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
