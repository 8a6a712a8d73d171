"""The parameter-frame codec against the committed vectors and hand-computed bytes."""
from __future__ import annotations

import json
import math
import struct

import pytest
from django.conf import settings

from rooms import protocol
from rooms.protocol import FRAME_BYTES, Frame, FrameError, decode, encode, is_newer
from rooms.protocol_vectors import VECTORS_PATH, render

VECTORS = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))


def _assert_close(frame: Frame, values: dict) -> None:
    assert frame.version == values["version"]
    assert frame.face_lost == values["flags"]["face_lost"]
    assert frame.speaking == values["flags"]["speaking"]
    assert frame.seq == values["seq"]
    assert frame.timestamp_ms == values["timestamp_ms"]
    for got, want in zip(frame.rotation, values["rotation"], strict=True):
        assert abs(got - want) <= 1e-4
    for got, want in zip(frame.position, values["position"], strict=True):
        assert abs(got - want) <= 0.01
    assert len(frame.blendshapes) == len(values["blendshapes"]) == 52
    for got, want in zip(frame.blendshapes, values["blendshapes"], strict=True):
        assert abs(got - want) <= 1 / 255


def test_committed_vectors_match_the_codec():
    # The file is the contract with the JS codec: regenerate with `python -m rooms.protocol_vectors`.
    assert VECTORS_PATH.read_text(encoding="utf-8") == render()
    assert VECTORS_PATH == settings.BASE_DIR / "docs" / "protocol.vectors.json"


def test_vector_file_covers_the_agreed_cases():
    names = {v["name"] for v in VECTORS["valid"]}
    assert {"all_zeros", "all_max", "negative_values_face_lost", "typical_speaking"} <= names
    assert len(VECTORS["valid"]) >= 4
    assert {v["error"] for v in VECTORS["invalid"]} == {"bad_length", "bad_version"}
    assert {v["name"] for v in VECTORS["encode_only"]} == {"clamping", "seq_and_timestamp_wrap", "rounding"}
    assert VECTORS["blendshape_names"] == list(protocol.BLENDSHAPE_NAMES)


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: v["name"])
def test_valid_vectors_round_trip(vector):
    data = bytes.fromhex(vector["hex"])
    assert len(data) == FRAME_BYTES
    _assert_close(decode(data), vector["values"])
    assert encode(Frame.from_values(vector["values"])).hex() == vector["hex"]


@pytest.mark.parametrize("vector", VECTORS["encode_only"], ids=lambda v: v["name"])
def test_encode_only_vectors(vector):
    assert encode(Frame.from_values(vector["values"])).hex() == vector["hex"]
    _assert_close(decode(bytes.fromhex(vector["hex"])), vector["decoded"])


@pytest.mark.parametrize("vector", VECTORS["decode_only"], ids=lambda v: v["name"])
def test_decode_only_vectors(vector):
    _assert_close(decode(bytes.fromhex(vector["hex"])), vector["values"])


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_invalid_vectors_are_rejected_with_their_code(vector):
    with pytest.raises(FrameError) as info:
        decode(bytes.fromhex(vector["hex"]))
    assert info.value.code == vector["error"]


def test_all_zeros_bytes_by_hand():
    assert encode(Frame()) == b"\x01" + b"\x00" * 71


def test_all_max_bytes_by_hand():
    data = encode(
        Frame(
            seq=65535,
            timestamp_ms=2**32 - 1,
            rotation=(9.0, 9.0, 9.0),
            position=(1e6, 1e6, 1e6),
            blendshapes=(2.0,) * 52,
            face_lost=True,
            speaking=True,
        )
    )
    assert data == bytes([1, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) + struct.pack("<6h", *[32767] * 6) + b"\xff" * 52


def test_field_offsets_by_hand():
    scores = [0.0] * 52
    scores[51] = 1.0  # noseSneerRight is the last byte
    scores[25] = 0.5  # jawOpen: 127.5 rounds up
    data = encode(Frame(seq=0x1234, timestamp_ms=0x01020304, rotation=(-0.0001, 0, 0), position=(0, 0, -1.0),
                        blendshapes=tuple(scores), speaking=True))
    assert data[0] == 1
    assert data[1] == 0b10
    assert data[2:4] == b"\x34\x12"
    assert data[4:8] == b"\x04\x03\x02\x01"
    assert data[8:10] == b"\xff\xff"  # -1
    assert data[18:20] == struct.pack("<h", -100)
    assert data[20 + 25] == 128
    assert data[-1] == 255
    assert len(data) == 72


def test_rounding_is_half_away_from_zero():
    data = encode(Frame(position=(0.125, -0.125, 0.0)))
    assert struct.unpack_from("<2h", data, 14) == (13, -13)


def test_non_finite_values_are_clamped_not_rejected():
    frame = decode(encode(Frame(rotation=(math.nan, math.inf, -math.inf), blendshapes=(math.nan,) + (math.inf,) * 51)))
    assert frame.rotation == (0.0, 3.2767, -3.2767)
    assert frame.blendshapes[0] == 0.0 and frame.blendshapes[1] == 1.0


def test_encode_refuses_wrong_shapes():
    with pytest.raises(ValueError):
        encode(Frame(blendshapes=(0.0,) * 51))
    with pytest.raises(ValueError):
        encode(Frame(rotation=(0.0, 0.0)))  # type: ignore[arg-type]


def test_decode_checks_length_before_version():
    with pytest.raises(FrameError) as info:
        decode(b"\x02" * 10)
    assert info.value.code == "bad_length"
    with pytest.raises(FrameError) as info:
        decode(b"\x03" + b"\x00" * 71)  # 2 is version 2 now, a valid frame without a body
    assert info.value.code == "bad_version"


@pytest.mark.parametrize(
    ("seq", "last", "newer"),
    [(1, 0, True), (0, 65535, True), (100, 65500, True), (0, 0, False), (65535, 0, False), (32767, 0, True),
     (32768, 0, False)],
)
def test_sequence_wrap(seq, last, newer):
    assert is_newer(seq, last) is newer


def test_idle_animation_frames_encode():
    frames = [decode(encode(protocol.idle_frame(i, i / 30, timestamp_ms=i * 33))) for i in range(200)]
    assert max(f.blendshapes[9] for f in frames) > 0.9  # it blinks
    assert len({f.rotation for f in frames}) > 50  # it moves


# --- Version 2: optional body section (docs/protocol.md section 1b) -------------------------

V2 = VECTORS["v2"]


def _number(v):
    return float(v) if isinstance(v, str) else v  # "NaN" / "Infinity" / "-Infinity" in encode_only


def _v2_values(values: dict) -> dict:
    out = dict(values)
    if values.get("body"):
        body = dict(values["body"])
        body["bones"] = [[_number(c) for c in q] for q in body["bones"]]
        body["fingers"] = [_number(v) for v in body["fingers"]]
        out["body"] = body
    return out


def _assert_close_v2(frame: Frame, values: dict) -> None:
    _assert_close(frame, values)
    if values["body"] is None:
        assert frame.body is None
        return
    assert frame.body is not None
    assert frame.body.left_hand == values["body"]["left_hand"]
    assert frame.body.right_hand == values["body"]["right_hand"]
    assert len(frame.body.bones) == len(values["body"]["bones"]) == 11
    for got, want in zip(frame.body.bones, values["body"]["bones"], strict=True):
        for g, w in zip(got, want, strict=True):
            assert abs(g - w) <= 1e-5
    for got, want in zip(frame.body.fingers, values["body"]["fingers"], strict=True):
        assert abs(got - want) <= 1 / 64


def test_v2_vector_file_covers_the_agreed_cases():
    assert V2["bone_names"] == list(protocol.BODY_BONES)
    assert V2["finger_names"] == list(protocol.FINGERS)
    assert V2["frame_bytes"] == [72, 178]
    assert {"v2_no_body", "v2_body_both_hands", "v2_body_extremes"} <= {v["name"] for v in V2["valid"]}
    assert {v["error"] for v in V2["invalid"]} == {"bad_length", "bad_version"}


@pytest.mark.parametrize("vector", V2["valid"], ids=lambda v: v["name"])
def test_v2_valid_vectors_round_trip(vector):
    data = bytes.fromhex(vector["hex"])
    _assert_close_v2(decode(data), vector["values"])
    assert encode(Frame.from_values(vector["values"])).hex() == vector["hex"]


@pytest.mark.parametrize("vector", V2["encode_only"], ids=lambda v: v["name"])
def test_v2_encode_only_vectors(vector):
    assert encode(Frame.from_values(_v2_values(vector["values"]))).hex() == vector["hex"]
    _assert_close_v2(decode(bytes.fromhex(vector["hex"])), vector["decoded"])


@pytest.mark.parametrize("vector", V2["decode_only"], ids=lambda v: v["name"])
def test_v2_decode_only_vectors(vector):
    frame = decode(bytes.fromhex(vector["hex"]))
    if vector["values"]["version"] == 1:
        assert frame.body is None
        _assert_close(frame, vector["values"])
    else:
        _assert_close_v2(frame, vector["values"])


@pytest.mark.parametrize("vector", V2["invalid"], ids=lambda v: v["name"])
def test_v2_invalid_vectors_are_rejected_with_their_code(vector):
    with pytest.raises(FrameError) as info:
        decode(bytes.fromhex(vector["hex"]))
    assert info.value.code == vector["error"]


def test_v2_body_frame_fits_the_goal_and_its_bytes_by_hand():
    half_turn_y = (0.0, 1.0, 0.0, 0.0)
    fingers = [0.0] * 40
    fingers[0] = 0.5  # left thumb spread: 32
    fingers[39] = -1.0  # right little finger last curl: -64
    body = protocol.Body(bones=(half_turn_y,) + (protocol.IDENTITY,) * 10, fingers=tuple(fingers), right_hand=True)
    data = encode(Frame(version=2, body=body))
    assert len(data) == 178 <= 200
    assert data[0] == 2
    assert data[1] == 0x04 | 0x10
    assert struct.unpack_from("<3h", data, 72) == (0, 32767, 0)
    assert struct.unpack_from("<b", data, 138)[0] == 32
    assert struct.unpack_from("<b", data, 177)[0] == -64


def test_v2_quaternion_sign_is_canonical():
    q = (0.0, 0.0, math.sin(0.4), math.cos(0.4))
    neg = tuple(-c for c in q)
    a = encode(Frame(version=2, body=protocol.Body(bones=(q,) * 11)))
    b = encode(Frame(version=2, body=protocol.Body(bones=(neg,) * 11)))
    assert a == b
    back = decode(a).body.bones[0]
    assert abs(back[2] - math.sin(0.4)) < 1e-4 and abs(back[3] - math.cos(0.4)) < 1e-4


def test_v1_frames_refuse_a_body_and_unknown_versions_refuse_to_encode():
    with pytest.raises(ValueError):
        encode(Frame(body=protocol.Body()))
    with pytest.raises(ValueError):
        encode(Frame(version=3))
    with pytest.raises(ValueError):
        encode(Frame(version=2, body=protocol.Body(bones=(protocol.IDENTITY,) * 10)))
