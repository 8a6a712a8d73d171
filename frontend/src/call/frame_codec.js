// Avatar parameter frames, versions 1 and 2, little-endian (docs/protocol.md, rooms/protocol.py).
// Version 1: 72 bytes:
//
//   0  u8       version (1)
//   1  u8       flags: bit0 face_lost, bit1 speaking
//   2  u16      sequence number (wraps at 65536)
//   4  u32      sender timestamp, ms of the sender's clock mod 2^32
//   8  3 x i16  head rotation yaw, pitch, roll: radians x 10000
//   14 3 x i16  head position x, y, z: centimetres x 100
//   20 52 x u8  blendshape scores in MediaPipe order, round(clamp(s, 0, 1) x 255)
//
// Version 2 (sent only to a peer that announced it in signaling): the same 72 bytes with version 2
// and, when flags bit2 `body` is set, 106 more (178 in all):
//   72  11 x 3 x i16  bone quaternions (BODY_BONES order) x, y, z x 32767, w >= 0 implied
//   138 40 x i8       finger joints, left hand then right, per finger [spread, curl1, curl2, curl3]
//                     in radians x 64
//   flags bit3 left_hand, bit4 right_hand: that hand is tracked in this frame
//
// The same layout is decoded by the Python codec; both pass docs/protocol.vectors.json.

export const VERSION = 1;
export const VERSION_2 = 2;
export const SUPPORTED_VERSIONS = Object.freeze([1, 2]);
export const FRAME_BYTES = 72;
export const FLAG_FACE_LOST = 0x01;
export const FLAG_SPEAKING = 0x02;
export const FLAG_BODY = 0x04;
export const FLAG_LEFT_HAND = 0x08;
export const FLAG_RIGHT_HAND = 0x10;
// VRM humanoid bones the body section carries (normalized bones: every VRM takes them).
export const BODY_BONES = Object.freeze([
  "spine", "chest", "neck", "leftShoulder", "rightShoulder", "leftUpperArm", "rightUpperArm",
  "leftLowerArm", "rightLowerArm", "leftHand", "rightHand",
]);
export const BODY_BONE_COUNT = BODY_BONES.length; // 11
export const FINGERS = Object.freeze(["thumb", "index", "middle", "ring", "little"]);
export const FINGER_VALUES = 4; // spread, curl1, curl2, curl3
export const FINGER_COUNT = 2 * FINGERS.length * FINGER_VALUES; // 40
export const BODY_BYTES = BODY_BONE_COUNT * 6 + FINGER_COUNT; // 106
export const FRAME_V2_BODY_BYTES = FRAME_BYTES + BODY_BYTES; // 178
const QUAT_SCALE = 32767;
const FINGER_SCALE = 64;
const I8_LIMIT = 127;
export const SEQ_MODULO = 65536;
export const TIMESTAMP_MODULO = 2 ** 32;
const ROTATION_SCALE = 10000;
const POSITION_SCALE = 100;
const I16_LIMIT = 32767;

// MediaPipe FaceLandmarker blendshape order (index 0 `_neutral`, no `tongueOut`).
export const BLENDSHAPE_NAMES = Object.freeze([
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
]);
export const BLENDSHAPE_COUNT = BLENDSHAPE_NAMES.length; // 52
/** name -> index, e.g. BS.jawOpen === 25 */
export const BS = Object.freeze(Object.fromEntries(BLENDSHAPE_NAMES.map((n, i) => [n, i])));

export class FrameError extends Error {
  /** @param {"bad_length"|"bad_version"} code */
  constructor(code, message) {
    super(message);
    this.name = "FrameError";
    this.code = code;
  }
}

const clampI16 = (v) => Math.max(-I16_LIMIT, Math.min(I16_LIMIT, v));
// Round half away from zero, as rooms/protocol.py does (JS Math.round rounds -0.5 up to 0).
const roundHalfAway = (x) => Math.sign(x) * Math.floor(Math.abs(x) + 0.5);
// NaN -> 0; +-Infinity clamps like any out-of-range value.
const finiteOr = (v, inf) => (Number.isNaN(v) || typeof v !== "number" ? 0 : Number.isFinite(v) ? v : Math.sign(v) * inf);
const quantI16 = (v, scale) => clampI16(roundHalfAway(finiteOr(v, I16_LIMIT) * scale)) || 0;
const quantU8 = (s) => roundHalfAway(Math.max(0, Math.min(1, finiteOr(s, 1))) * 255);
const quantI8 = (v) => {
  if (typeof v !== "number" || Number.isNaN(v)) return 0;
  if (!Number.isFinite(v)) return v > 0 ? I8_LIMIT : -I8_LIMIT;
  return Math.max(-I8_LIMIT, Math.min(I8_LIMIT, roundHalfAway(v * FINGER_SCALE))) || 0;
};

/** A body section at rest: identity bones, open fingers, no hands tracked. */
export function createBody() {
  const bones = new Float32Array(BODY_BONE_COUNT * 4);
  for (let i = 0; i < BODY_BONE_COUNT; i++) bones[4 * i + 3] = 1;
  return { bones, fingers: new Float32Array(FINGER_COUNT), left_hand: false, right_hand: false };
}

// Quaternion (x, y, z, w) at bones[4i..] -> x, y, z of the unit quaternion with w >= 0, x 32767.
// Same arithmetic, in the same order, as rooms/protocol.py, so both codecs give the same bytes.
function writeQuat(view, offset, bones, i) {
  let x = +bones[4 * i], y = +bones[4 * i + 1], z = +bones[4 * i + 2];
  const w = +bones[4 * i + 3];
  const norm = Math.sqrt(x * x + y * y + z * z + w * w);
  if (!Number.isFinite(norm) || norm === 0) x = y = z = 0;
  else {
    if (w < 0) { x = -x; y = -y; z = -z; }
    x = (x / norm) * QUAT_SCALE; y = (y / norm) * QUAT_SCALE; z = (z / norm) * QUAT_SCALE;
  }
  const q = (c) => Math.max(-QUAT_SCALE, Math.min(QUAT_SCALE, roundHalfAway(c))) || 0;
  view.setInt16(offset, q(x), true);
  view.setInt16(offset + 2, q(y), true);
  view.setInt16(offset + 4, q(z), true);
}

/** The capture timestamp as the wire carries it (whole milliseconds, modulo 2^32). */
export function wireTimestamp(ms) {
  const ts = Math.floor(ms || 0) % TIMESTAMP_MODULO;
  return ts < 0 ? ts + TIMESTAMP_MODULO : ts;
}

/**
 * Encode a frame: version 1 (72 bytes) unless `version` is 2; a version 2 frame with `body` is
 * 178 bytes.
 * @param {{version?:1|2, seq?:number, timestamp_ms?:number, rotation?:ArrayLike<number>,
 *          position?:ArrayLike<number>, blendshapes?:ArrayLike<number>, face_lost?:boolean,
 *          speaking?:boolean, body?:{bones:ArrayLike<number>, fingers:ArrayLike<number>,
 *          left_hand?:boolean, right_hand?:boolean}|null}} f
 *        body.bones: 11 quaternions x, y, z, w (44 numbers); body.fingers: 40 angles in radians
 * @param {Uint8Array} [out] optional buffer to reuse (the sender encodes 30 times a second); used
 *        when its length is the frame's length
 * @returns {Uint8Array}
 */
export function encodeFrame(f, out) {
  const version = f.version === VERSION_2 ? VERSION_2 : VERSION;
  if (f.version !== undefined && f.version !== VERSION && f.version !== VERSION_2) {
    throw new RangeError(`frame version must be 1 or 2, got ${f.version}`);
  }
  const body = version === VERSION_2 ? f.body || null : null;
  if (f.body && version !== VERSION_2) throw new RangeError("only version 2 frames carry a body");
  if (body && (body.bones.length !== BODY_BONE_COUNT * 4 || body.fingers.length !== FINGER_COUNT)) {
    throw new RangeError(`a body needs ${BODY_BONE_COUNT} quaternions and ${FINGER_COUNT} finger values`);
  }
  const length = body ? FRAME_V2_BODY_BYTES : FRAME_BYTES;
  const bytes = out && out.length === length ? out : new Uint8Array(length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, length);
  view.setUint8(0, version);
  let flags = (f.face_lost ? FLAG_FACE_LOST : 0) | (f.speaking ? FLAG_SPEAKING : 0);
  if (body) flags |= FLAG_BODY | (body.left_hand ? FLAG_LEFT_HAND : 0) | (body.right_hand ? FLAG_RIGHT_HAND : 0);
  view.setUint8(1, flags);
  view.setUint16(2, (((f.seq || 0) % SEQ_MODULO) + SEQ_MODULO) % SEQ_MODULO, true);
  view.setUint32(4, wireTimestamp(f.timestamp_ms), true);
  const rot = f.rotation || [0, 0, 0];
  const pos = f.position || [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    view.setInt16(8 + 2 * i, quantI16(rot[i], ROTATION_SCALE), true);
    view.setInt16(14 + 2 * i, quantI16(pos[i], POSITION_SCALE), true);
  }
  const bs = f.blendshapes || [];
  for (let i = 0; i < BLENDSHAPE_COUNT; i++) bytes[20 + i] = quantU8(i < bs.length ? bs[i] : 0);
  if (body) {
    for (let i = 0; i < BODY_BONE_COUNT; i++) writeQuat(view, FRAME_BYTES + 6 * i, body.bones, i);
    const fo = FRAME_BYTES + BODY_BONE_COUNT * 6;
    for (let i = 0; i < FINGER_COUNT; i++) view.setInt8(fo + i, quantI8(body.fingers[i]));
  }
  return bytes;
}

/**
 * Decode a frame of either version.
 * @param {ArrayBuffer|ArrayBufferView} data
 * @returns {{version:number, flags:{face_lost:boolean, speaking:boolean}, face_lost:boolean, speaking:boolean,
 *            seq:number, timestamp_ms:number, rotation:number[], position:number[], blendshapes:Float32Array,
 *            body:null|{bones:Float32Array, fingers:Float32Array, left_hand:boolean, right_hand:boolean}}}
 *          body.bones: 11 unit quaternions x, y, z, w (w >= 0)
 * @throws {FrameError} bad_length / bad_version
 */
export function decodeFrame(data) {
  const bytes = data instanceof ArrayBuffer
    ? new Uint8Array(data)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length !== FRAME_BYTES && bytes.length !== FRAME_V2_BODY_BYTES) {
    throw new FrameError("bad_length", `frame must be ${FRAME_BYTES} or ${FRAME_V2_BODY_BYTES} bytes, got ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const version = view.getUint8(0);
  if (version !== VERSION && version !== VERSION_2) {
    throw new FrameError("bad_version", `unsupported frame version ${version}`);
  }
  const flags = view.getUint8(1);
  const hasBody = version === VERSION_2 && (flags & FLAG_BODY) !== 0;
  if (bytes.length !== (hasBody ? FRAME_V2_BODY_BYTES : FRAME_BYTES)) {
    throw new FrameError("bad_length", "the frame's length does not match its version and body flag");
  }
  let body = null;
  if (hasBody) {
    body = createBody();
    for (let i = 0; i < BODY_BONE_COUNT; i++) {
      const x = view.getInt16(FRAME_BYTES + 6 * i, true) / QUAT_SCALE;
      const y = view.getInt16(FRAME_BYTES + 6 * i + 2, true) / QUAT_SCALE;
      const z = view.getInt16(FRAME_BYTES + 6 * i + 4, true) / QUAT_SCALE;
      body.bones.set([x, y, z, Math.sqrt(Math.max(0, 1 - x * x - y * y - z * z))], 4 * i);
    }
    const fo = FRAME_BYTES + BODY_BONE_COUNT * 6;
    for (let i = 0; i < FINGER_COUNT; i++) body.fingers[i] = view.getInt8(fo + i) / FINGER_SCALE;
    body.left_hand = (flags & FLAG_LEFT_HAND) !== 0;
    body.right_hand = (flags & FLAG_RIGHT_HAND) !== 0;
  }
  const rotation = [0, 1, 2].map((i) => view.getInt16(8 + 2 * i, true) / ROTATION_SCALE);
  const position = [0, 1, 2].map((i) => view.getInt16(14 + 2 * i, true) / POSITION_SCALE);
  const blendshapes = new Float32Array(BLENDSHAPE_COUNT);
  for (let i = 0; i < BLENDSHAPE_COUNT; i++) blendshapes[i] = bytes[20 + i] / 255;
  const face_lost = (flags & FLAG_FACE_LOST) !== 0;
  const speaking = (flags & FLAG_SPEAKING) !== 0;
  return {
    version,
    flags: { face_lost, speaking },
    face_lost,
    speaking,
    seq: view.getUint16(2, true),
    timestamp_ms: view.getUint32(4, true),
    rotation,
    position,
    blendshapes,
    body,
  };
}

/** True when sequence number `seq` is newer than `last` (modulo wrap, half window). */
export function isNewerSeq(seq, last) {
  const d = (seq - last + SEQ_MODULO) % SEQ_MODULO;
  return d >= 1 && d <= 32767;
}

/** Lower-case hex of bytes (tests, debugging). */
export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Bytes from hex. */
export function fromHex(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
  return out;
}
