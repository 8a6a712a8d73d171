"""Avatar parameter frames, versions 1 and 2: the binary frames browsers send each other over
the "params" DataChannel (`ordered: false, maxRetransmits: 0`, 20-30 Hz).

Layout (little-endian, exactly 72 bytes; see docs/protocol.md, vectors in
docs/protocol.vectors.json that the JS codec `frontend/src/call/frame_codec.js` also passes):

    0  u8        version (1)
    1  u8        flags: bit0 face_lost, bit1 speaking (other bits 0 on encode, ignored on decode)
    2  u16       sequence number, wraps at 65536
    4  u32       sender timestamp, ms of the sender's clock mod 2^32
    8  3 x i16   head rotation yaw, pitch, roll: radians x 10000, clamped to +-32767
    14 3 x i16   head position x, y, z: centimetres x 100, clamped to +-32767
    20 52 x u8   blendshape scores in MediaPipe order, round(clamp(s, 0, 1) x 255)

Version 2 (sent only to a peer whose `avatar` signaling message listed `frames: [1, 2]`) has
the same 72 bytes with version 2 and, when flags bit2 `body` is set, a 106-byte body section
(178 bytes in all):

    72  11 x 3 x i16  body bone rotations (BODY_BONES order), quaternion x, y, z x 32767 with w >= 0
                      implied (w = sqrt(1 - x^2 - y^2 - z^2)), VRM normalized humanoid local space
    138 40 x i8       finger joints, left hand then right, FINGERS order, per finger
                      [spread, curl1, curl2, curl3] in radians x 64, clamped to +-127
    flags bit3 `left_hand`, bit4 `right_hand`: that hand is tracked now (not held or relaxed)

The server never decodes frames of real calls (they go browser to browser); this codec serves
the aiortc peer, the tests and the benchmarks, and is the reference for the JS codec.
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

VERSION = 1
VERSION_2 = 2
SUPPORTED_VERSIONS = (1, 2)
FRAME_BYTES = 72
FLAG_FACE_LOST = 0x01
FLAG_SPEAKING = 0x02
FLAG_BODY = 0x04  # v2: a body section follows the 72 bytes
FLAG_LEFT_HAND = 0x08  # v2: the left hand is tracked in this frame
FLAG_RIGHT_HAND = 0x10  # v2: the right hand is tracked in this frame
SEQ_MODULO = 1 << 16
TIMESTAMP_MODULO = 1 << 32
ROTATION_SCALE = 10000  # radians -> i16
POSITION_SCALE = 100  # centimetres -> i16
I16_LIMIT = 32767

# MediaPipe FaceLandmarker blendshape order (index 0 is `_neutral`, no `tongueOut`).
BLENDSHAPE_NAMES: tuple[str, ...] = (
    "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight", "eyeLookDownLeft",
    "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight",
    "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight",
    "jawForward", "jawLeft", "jawOpen", "jawRight", "mouthClose", "mouthDimpleLeft", "mouthDimpleRight",
    "mouthFrownLeft", "mouthFrownRight", "mouthFunnel", "mouthLeft", "mouthLowerDownLeft",
    "mouthLowerDownRight", "mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRight", "mouthRollLower",
    "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight",
    "mouthStretchLeft", "mouthStretchRight", "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft",
    "noseSneerRight",
)  # fmt: skip
BLENDSHAPE_COUNT = len(BLENDSHAPE_NAMES)
assert BLENDSHAPE_COUNT == 52

_STRUCT = struct.Struct("<BBHI3h3h52B")
assert _STRUCT.size == FRAME_BYTES

# Version 2 body section. The bones are VRM humanoid bone names (normalized bones, so every VRM
# takes them); the finger joints are the VRM 1.0 finger bones, per finger the first joint's
# spread (around the palm normal) and the curl of its three joints.
BODY_BONES: tuple[str, ...] = (
    "spine", "chest", "neck", "leftShoulder", "rightShoulder", "leftUpperArm", "rightUpperArm",
    "leftLowerArm", "rightLowerArm", "leftHand", "rightHand",
)  # fmt: skip
BODY_BONE_COUNT = len(BODY_BONES)
FINGERS: tuple[str, ...] = ("thumb", "index", "middle", "ring", "little")
FINGER_VALUES = 4  # spread, curl1, curl2, curl3
FINGER_COUNT = 2 * len(FINGERS) * FINGER_VALUES  # 40: left hand, then right
QUAT_SCALE = 32767
FINGER_SCALE = 64  # radians -> i8: 0.9 degree steps, +-1.98 rad
I8_LIMIT = 127
_BODY_STRUCT = struct.Struct(f"<{BODY_BONE_COUNT * 3}h{FINGER_COUNT}b")
BODY_BYTES = _BODY_STRUCT.size
FRAME_V2_BODY_BYTES = FRAME_BYTES + BODY_BYTES
assert BODY_BYTES == 106 and FRAME_V2_BODY_BYTES == 178
IDENTITY: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)


class FrameError(ValueError):
    """A frame that cannot be decoded. `code` is `bad_length` or `bad_version`."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class Body:
    """The version 2 body section: bone quaternions (x, y, z, w) and finger joint angles."""

    bones: tuple[tuple[float, float, float, float], ...] = (IDENTITY,) * BODY_BONE_COUNT
    fingers: tuple[float, ...] = (0.0,) * FINGER_COUNT
    left_hand: bool = False
    right_hand: bool = False

    def as_values(self) -> dict:
        return {
            "left_hand": self.left_hand,
            "right_hand": self.right_hand,
            "bones": [list(q) for q in self.bones],
            "fingers": list(self.fingers),
        }

    @classmethod
    def from_values(cls, values: dict) -> Body:
        return cls(
            bones=tuple(tuple(float(c) for c in q) for q in values["bones"]),  # type: ignore[misc]
            fingers=tuple(float(v) for v in values["fingers"]),
            left_hand=bool(values.get("left_hand", False)),
            right_hand=bool(values.get("right_hand", False)),
        )


@dataclass(frozen=True)
class Frame:
    """Decoded values. Encoding quantizes and clamps; decoding returns the quantized values."""

    seq: int = 0
    timestamp_ms: int = 0
    rotation: tuple[float, float, float] = (0.0, 0.0, 0.0)  # yaw, pitch, roll in radians
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)  # x, y, z in centimetres
    blendshapes: tuple[float, ...] = field(default_factory=lambda: (0.0,) * BLENDSHAPE_COUNT)
    face_lost: bool = False
    speaking: bool = False
    version: int = VERSION
    body: Body | None = None  # version 2 only

    def as_values(self) -> dict:
        """The JSON shape used by docs/protocol.vectors.json (`body` only in version 2)."""
        values = {
            "version": self.version,
            "flags": {"face_lost": self.face_lost, "speaking": self.speaking},
            "seq": self.seq,
            "timestamp_ms": self.timestamp_ms,
            "rotation": list(self.rotation),
            "position": list(self.position),
            "blendshapes": list(self.blendshapes),
        }
        if self.version == VERSION_2:
            values["body"] = self.body.as_values() if self.body else None
        return values

    @classmethod
    def from_values(cls, values: dict) -> Frame:
        flags = values.get("flags") or {}
        return cls(
            version=int(values.get("version", VERSION)),
            face_lost=bool(flags.get("face_lost", False)),
            speaking=bool(flags.get("speaking", False)),
            seq=int(values.get("seq", 0)),
            timestamp_ms=int(values.get("timestamp_ms", 0)),
            rotation=tuple(float(v) for v in values.get("rotation", (0, 0, 0))),  # type: ignore[arg-type]
            position=tuple(float(v) for v in values.get("position", (0, 0, 0))),  # type: ignore[arg-type]
            blendshapes=tuple(float(v) for v in values.get("blendshapes", (0.0,) * BLENDSHAPE_COUNT)),
            body=Body.from_values(values["body"]) if values.get("body") else None,
        )


def _round_half_away(value: float) -> int:
    """Round half away from zero, so Python and JS agree (JS `Math.round` differs on negatives;
    the JS codec uses `Math.sign(v) * Math.round(Math.abs(v))`)."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def _quantize_i16(value: float, scale: int) -> int:
    if not math.isfinite(value):
        value = 0.0 if math.isnan(value) else math.copysign(I16_LIMIT, value) / scale
    return max(-I16_LIMIT, min(I16_LIMIT, _round_half_away(value * scale)))


def _quantize_scores(values: tuple[float, ...]) -> list[int]:
    """Scores clamped to 0..1, x 255, rounded half away from zero (half up: never negative).

    One loop without a call per score: every peer encodes 52 of these 30 times a second, and in
    the soak benchmark 40 peers share two processes, where a function call per score was a
    fifth of a peer's CPU time. NaN is 0; infinities clamp like any out-of-range value."""
    out = []
    for v in values:
        if v > 0.0:  # False for NaN
            out.append(255 if v >= 1.0 else int(v * 255 + 0.5))
        else:
            out.append(0)
    return out


def _quantize_quat(q: tuple[float, ...]) -> tuple[int, int, int]:
    """x, y, z of the unit quaternion with w >= 0 (q and -q are the same rotation), x 32767.
    A non-finite or zero quaternion is the identity."""
    if len(q) != 4:
        raise ValueError("a bone rotation is a quaternion of four values (x, y, z, w)")
    x, y, z, w = (float(c) for c in q)
    norm = math.sqrt(x * x + y * y + z * z + w * w)
    if not math.isfinite(norm) or norm == 0.0:
        return (0, 0, 0)
    if w < 0:
        x, y, z = -x, -y, -z
    return tuple(  # type: ignore[return-value]
        max(-QUAT_SCALE, min(QUAT_SCALE, _round_half_away(c / norm * QUAT_SCALE))) for c in (x, y, z)
    )


def _dequantize_quat(x: int, y: int, z: int) -> tuple[float, float, float, float]:
    fx, fy, fz = x / QUAT_SCALE, y / QUAT_SCALE, z / QUAT_SCALE
    return (fx, fy, fz, math.sqrt(max(0.0, 1.0 - fx * fx - fy * fy - fz * fz)))


def _quantize_i8(value: float) -> int:
    if not math.isfinite(value):
        return 0 if math.isnan(value) else int(math.copysign(I8_LIMIT, value))
    return max(-I8_LIMIT, min(I8_LIMIT, _round_half_away(value * FINGER_SCALE)))


def _encode_body(body: Body) -> bytes:
    if len(body.bones) != BODY_BONE_COUNT:
        raise ValueError(f"a body needs exactly {BODY_BONE_COUNT} bone rotations")
    if len(body.fingers) != FINGER_COUNT:
        raise ValueError(f"a body needs exactly {FINGER_COUNT} finger values")
    quats = [c for q in body.bones for c in _quantize_quat(q)]
    return _BODY_STRUCT.pack(*quats, *(_quantize_i8(v) for v in body.fingers))


def encode(frame: Frame) -> bytes:
    """Pack a frame: 72 bytes, or 178 for version 2 with a body. Out-of-range values are
    clamped, never rejected."""
    if frame.version not in SUPPORTED_VERSIONS:
        raise ValueError(f"frame version must be one of {SUPPORTED_VERSIONS}")
    if frame.body is not None and frame.version != VERSION_2:
        raise ValueError("only version 2 frames carry a body")
    if len(frame.rotation) != 3 or len(frame.position) != 3:
        raise ValueError("rotation and position need three values each")
    if len(frame.blendshapes) != BLENDSHAPE_COUNT:
        raise ValueError(f"blendshapes need exactly {BLENDSHAPE_COUNT} scores")
    flags = (FLAG_FACE_LOST if frame.face_lost else 0) | (FLAG_SPEAKING if frame.speaking else 0)
    if frame.body is not None:
        flags |= FLAG_BODY
        flags |= (FLAG_LEFT_HAND if frame.body.left_hand else 0) | (FLAG_RIGHT_HAND if frame.body.right_hand else 0)
    head = _STRUCT.pack(
        frame.version,
        flags,
        frame.seq % SEQ_MODULO,
        frame.timestamp_ms % TIMESTAMP_MODULO,
        *(_quantize_i16(v, ROTATION_SCALE) for v in frame.rotation),
        *(_quantize_i16(v, POSITION_SCALE) for v in frame.position),
        *_quantize_scores(frame.blendshapes),
    )
    return head + _encode_body(frame.body) if frame.body is not None else head


def decode(data: bytes | bytearray | memoryview) -> Frame:
    """Unpack a frame of either version; raises FrameError("bad_length" | "bad_version").

    The length is checked first: 72 bytes, or 178 for a version 2 frame with its body flag set
    (a version 2 frame whose body flag disagrees with its length is `bad_length`)."""
    if len(data) not in (FRAME_BYTES, FRAME_V2_BODY_BYTES):
        raise FrameError(
            "bad_length", f"A frame is {FRAME_BYTES} or {FRAME_V2_BODY_BYTES} bytes, got {len(data)}."
        )
    version = data[0]
    if version not in SUPPORTED_VERSIONS:
        raise FrameError("bad_version", f"Frame version {version} is not supported (1 or 2).")
    has_body = version == VERSION_2 and bool(data[1] & FLAG_BODY)
    if len(data) != (FRAME_V2_BODY_BYTES if has_body else FRAME_BYTES):
        raise FrameError("bad_length", "The frame's length does not match its version and body flag.")
    fields = _STRUCT.unpack(bytes(data[:FRAME_BYTES]))
    flags = fields[1]
    body = None
    if has_body:
        values = _BODY_STRUCT.unpack(bytes(data[FRAME_BYTES:]))
        q = values[: BODY_BONE_COUNT * 3]
        body = Body(
            bones=tuple(_dequantize_quat(*q[3 * i : 3 * i + 3]) for i in range(BODY_BONE_COUNT)),
            fingers=tuple(v / FINGER_SCALE for v in values[BODY_BONE_COUNT * 3 :]),
            left_hand=bool(flags & FLAG_LEFT_HAND),
            right_hand=bool(flags & FLAG_RIGHT_HAND),
        )
    return Frame(
        version=fields[0],
        face_lost=bool(flags & FLAG_FACE_LOST),
        speaking=bool(flags & FLAG_SPEAKING),
        seq=fields[2],
        timestamp_ms=fields[3],
        rotation=tuple(v / ROTATION_SCALE for v in fields[4:7]),  # type: ignore[arg-type]
        position=tuple(v / POSITION_SCALE for v in fields[7:10]),  # type: ignore[arg-type]
        blendshapes=tuple(v / 255 for v in fields[10:]),
        body=body,
    )


def is_newer(seq: int, last: int) -> bool:
    """True when `seq` follows `last` modulo wrap: receivers drop older (reordered) frames."""
    return 1 <= (seq - last) % SEQ_MODULO <= 32767


def idle_frame(seq: int, t: float, *, timestamp_ms: int) -> Frame:
    """A generated idle animation at time `t` seconds: slow sway, periodic blinks, light breathing.

    Used by the avatar_peer command and the benchmarks when no recorded frames are given.
    """
    scores = [0.0] * BLENDSHAPE_COUNT
    blink_phase = t % 4.0
    blink = max(0.0, 1.0 - abs(blink_phase - 0.1) / 0.1) if blink_phase < 0.2 else 0.0
    scores[0] = 1.0 - blink
    scores[9] = scores[10] = blink  # eyeBlinkLeft/Right
    scores[25] = 0.05 + 0.03 * math.sin(t * 1.3)  # jawOpen: breathing
    scores[44] = scores[45] = 0.2 + 0.1 * math.sin(t * 0.4)  # mouthSmileLeft/Right
    return Frame(
        seq=seq % SEQ_MODULO,
        timestamp_ms=timestamp_ms % TIMESTAMP_MODULO,
        rotation=(0.15 * math.sin(t * 0.7), 0.05 * math.sin(t * 0.5), 0.03 * math.sin(t * 0.9)),
        position=(1.5 * math.sin(t * 0.3), 0.5 * math.sin(t * 0.6), 0.0),
        blendshapes=tuple(scores),
    )
