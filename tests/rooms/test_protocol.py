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
        decode(b"\x02" + b"\x00" * 71)
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
