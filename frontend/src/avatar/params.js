// The avatar parameter object: what tracking produces, what a frame carries and what both
// renderers (2D canvas and VRM) draw. One shape everywhere, so the local preview and the remote
// view share code.
import { BLENDSHAPE_COUNT, BLENDSHAPE_NAMES, BS } from "../call/frame_codec.js";

export { BS, BLENDSHAPE_COUNT, BLENDSHAPE_NAMES };

/**
 * @typedef {Object} AvatarParams
 * @property {Float32Array} rotation    head [yaw, pitch, roll] in radians, as the camera sees the face
 * @property {Float32Array} position    head [x, y, z] in centimetres (camera space)
 * @property {Float32Array} blendshapes 52 MediaPipe scores 0..1
 * @property {boolean} faceLost
 * @property {boolean} speaking
 * @property {Object<string, number>} expressions  held expression overrides (keyboard shortcuts):
 *           VRM preset names (happy, angry, sad, relaxed, surprised, aa...) or ARKit names -> 0..1
 */

/** @returns {AvatarParams} a neutral pose */
export function createParams() {
  return {
    rotation: new Float32Array(3),
    position: new Float32Array([0, 0, -45]),
    blendshapes: new Float32Array(BLENDSHAPE_COUNT),
    faceLost: false,
    speaking: false,
    expressions: {},
  };
}

export function copyParams(out, src) {
  out.rotation.set(src.rotation);
  out.position.set(src.position);
  out.blendshapes.set(src.blendshapes);
  out.faceLost = src.faceLost;
  out.speaking = src.speaking;
  out.expressions = src.expressions || {};
  return out;
}

const lerp = (a, b, t) => a + (b - a) * t;

/** out = a + (b - a) * t, component-wise (flags and overrides from b). out may alias a. */
export function lerpParams(out, a, b, t) {
  for (let i = 0; i < 3; i++) {
    out.rotation[i] = lerp(a.rotation[i], b.rotation[i], t);
    out.position[i] = lerp(a.position[i], b.position[i], t);
  }
  for (let i = 0; i < BLENDSHAPE_COUNT; i++) out.blendshapes[i] = lerp(a.blendshapes[i], b.blendshapes[i], t);
  out.faceLost = b.faceLost;
  out.speaking = b.speaking;
  out.expressions = b.expressions || {};
  return out;
}

/** Fill params from a decoded frame (frame_codec.decodeFrame). */
export function paramsFromFrame(out, frame) {
  out.rotation.set(frame.rotation);
  out.position.set(frame.position);
  out.blendshapes.set(frame.blendshapes);
  out.faceLost = frame.face_lost;
  out.speaking = frame.speaking;
  return out;
}

/** The frame fields (frame_codec.encodeFrame input) for params. */
export function frameFields(params, seq, timestampMs) {
  return {
    seq,
    timestamp_ms: timestampMs,
    rotation: params.rotation,
    position: params.position,
    blendshapes: params.blendshapes,
    face_lost: params.faceLost,
    speaking: params.speaking,
  };
}

/** Convenience readers used by both renderers. */
export const avg = (p, a, b) => (p.blendshapes[a] + p.blendshapes[b]) * 0.5;
export const clamp01 = (v) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Gaze in [-1, 1]: x positive = looking to the image's right, y positive = up. */
export function gaze(p) {
  const b = p.blendshapes;
  // Left eye looks "out" to the left, right eye "in" to the left (camera view).
  const x = ((b[BS.eyeLookInLeft] - b[BS.eyeLookOutLeft]) + (b[BS.eyeLookOutRight] - b[BS.eyeLookInRight])) * 0.5;
  const y = ((b[BS.eyeLookUpLeft] + b[BS.eyeLookUpRight]) - (b[BS.eyeLookDownLeft] + b[BS.eyeLookDownRight])) * 0.5;
  return { x: Math.max(-1, Math.min(1, x)), y: Math.max(-1, Math.min(1, y)) };
}
