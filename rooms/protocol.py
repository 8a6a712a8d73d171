"""Avatar parameter frame, version 1: the binary frame browsers send each other over the
"params" DataChannel (`ordered: false, maxRetransmits: 0`, 20-30 Hz).

Layout (little-endian, exactly 72 bytes; see docs/protocol.md, vectors in
docs/protocol.vectors.json that the JS codec `frontend/src/call/frame_codec.js` also passes):

    0  u8        version (1)
    1  u8        flags: bit0 face_lost, bit1 speaking (other bits 0 on encode, ignored on decode)
    2  u16       sequence number, wraps at 65536
    4  u32       sender timestamp, ms of the sender's clock mod 2^32
    8  3 x i16   head rotation yaw, pitch, roll: radians x 10000, clamped to +-32767
    14 3 x i16   head position x, y, z: centimetres x 100, clamped to +-32767
    20 52 x u8   blendshape scores in MediaPipe order, round(clamp(s, 0, 1) x 255)

The server never decodes frames of real calls (they go browser to browser); this codec serves
the aiortc peer, the tests and the benchmarks, and is the reference for the JS codec.
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

VERSION = 1
FRAME_BYTES = 72
FLAG_FACE_LOST = 0x01
FLAG_SPEAKING = 0x02
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


class FrameError(ValueError):
    """A frame that cannot be decoded. `code` is `bad_length` or `bad_version`."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


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

    def as_values(self) -> dict:
        """The JSON shape used by docs/protocol.vectors.json."""
        return {
            "version": self.version,
            "flags": {"face_lost": self.face_lost, "speaking": self.speaking},
            "seq": self.seq,
            "timestamp_ms": self.timestamp_ms,
            "rotation": list(self.rotation),
            "position": list(self.position),
            "blendshapes": list(self.blendshapes),
        }

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


def encode(frame: Frame) -> bytes:
    """Pack a frame into exactly 72 bytes. Out-of-range values are clamped, never rejected."""
    if len(frame.rotation) != 3 or len(frame.position) != 3:
        raise ValueError("rotation and position need three values each")
    if len(frame.blendshapes) != BLENDSHAPE_COUNT:
        raise ValueError(f"blendshapes need exactly {BLENDSHAPE_COUNT} scores")
    flags = (FLAG_FACE_LOST if frame.face_lost else 0) | (FLAG_SPEAKING if frame.speaking else 0)
    return _STRUCT.pack(
        VERSION,
        flags,
        frame.seq % SEQ_MODULO,
        frame.timestamp_ms % TIMESTAMP_MODULO,
        *(_quantize_i16(v, ROTATION_SCALE) for v in frame.rotation),
        *(_quantize_i16(v, POSITION_SCALE) for v in frame.position),
        *_quantize_scores(frame.blendshapes),
    )


def decode(data: bytes | bytearray | memoryview) -> Frame:
    """Unpack a frame; raises FrameError("bad_length" | "bad_version")."""
    if len(data) != FRAME_BYTES:
        raise FrameError("bad_length", f"A frame is {FRAME_BYTES} bytes, got {len(data)}.")
    if data[0] != VERSION:
        raise FrameError("bad_version", f"Frame version {data[0]} is not supported (expected {VERSION}).")
    fields = _STRUCT.unpack(bytes(data))
    flags = fields[1]
    return Frame(
        version=fields[0],
        face_lost=bool(flags & FLAG_FACE_LOST),
        speaking=bool(flags & FLAG_SPEAKING),
        seq=fields[2],
        timestamp_ms=fields[3],
        rotation=tuple(v / ROTATION_SCALE for v in fields[4:7]),  # type: ignore[arg-type]
        position=tuple(v / POSITION_SCALE for v in fields[7:10]),  # type: ignore[arg-type]
        blendshapes=tuple(v / 255 for v in fields[10:]),
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
