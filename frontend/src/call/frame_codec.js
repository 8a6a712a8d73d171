// Avatar parameter frame, version 1: 72 bytes, little-endian (docs/protocol.md, rooms/protocol.py).
//
//   0  u8       version (1)
//   1  u8       flags: bit0 face_lost, bit1 speaking
//   2  u16      sequence number (wraps at 65536)
//   4  u32      sender timestamp, ms of the sender's clock mod 2^32
//   8  3 x i16  head rotation yaw, pitch, roll: radians x 10000
//   14 3 x i16  head position x, y, z: centimetres x 100
//   20 52 x u8  blendshape scores in MediaPipe order, round(clamp(s, 0, 1) x 255)
//
// The same layout is decoded by the Python codec; both pass docs/protocol.vectors.json.

export const VERSION = 1;
export const FRAME_BYTES = 72;
export const FLAG_FACE_LOST = 0x01;
export const FLAG_SPEAKING = 0x02;
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

/** The capture timestamp as the wire carries it (whole milliseconds, modulo 2^32). */
export function wireTimestamp(ms) {
  const ts = Math.floor(ms || 0) % TIMESTAMP_MODULO;
  return ts < 0 ? ts + TIMESTAMP_MODULO : ts;
}

/**
 * Encode a frame.
 * @param {{seq?:number, timestamp_ms?:number, rotation?:ArrayLike<number>, position?:ArrayLike<number>,
 *          blendshapes?:ArrayLike<number>, face_lost?:boolean, speaking?:boolean}} f
 * @param {Uint8Array} [out] optional 72-byte buffer to reuse (the sender encodes 30 times a second)
 * @returns {Uint8Array}
 */
export function encodeFrame(f, out) {
  const bytes = out || new Uint8Array(FRAME_BYTES);
  const view = new DataView(bytes.buffer, bytes.byteOffset, FRAME_BYTES);
  view.setUint8(0, VERSION);
  view.setUint8(1, (f.face_lost ? FLAG_FACE_LOST : 0) | (f.speaking ? FLAG_SPEAKING : 0));
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
  return bytes;
}

/**
 * Decode a frame.
 * @param {ArrayBuffer|ArrayBufferView} data
 * @returns {{version:number, flags:{face_lost:boolean, speaking:boolean}, face_lost:boolean, speaking:boolean,
 *            seq:number, timestamp_ms:number, rotation:number[], position:number[], blendshapes:Float32Array}}
 * @throws {FrameError} bad_length / bad_version
 */
export function decodeFrame(data) {
  const bytes = data instanceof ArrayBuffer
    ? new Uint8Array(data)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length !== FRAME_BYTES) {
    throw new FrameError("bad_length", `frame must be ${FRAME_BYTES} bytes, got ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, FRAME_BYTES);
  const version = view.getUint8(0);
  if (version !== VERSION) throw new FrameError("bad_version", `unsupported frame version ${version}`);
  const flags = view.getUint8(1);
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
