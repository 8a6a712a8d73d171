// The avatar parameter object: what tracking produces, what a frame carries and what both
// renderers (2D canvas and VRM) draw. One shape everywhere, so the local preview and the remote
// view share code.
import { BLENDSHAPE_COUNT, BLENDSHAPE_NAMES, BODY_BONE_COUNT, BS, FINGER_COUNT, createBody } from "../call/frame_codec.js";

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
 * @property {{bones:Float32Array, fingers:Float32Array, left_hand:boolean, right_hand:boolean}} body
 *           upper body and fingers (frame version 2 body section); meaningful when hasBody
 * @property {boolean} hasBody  a body tracker (ours or the other side's) drives the bones
 *
 * The face fields and the body are separate: copyParams/lerpParams move the face only (the face
 * pipeline copies poses around 30 times a second), copyBody/lerpBody the body.
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
    body: createBody(),
    hasBody: false,
  };
}

export function copyBody(out, src) {
  out.body.bones.set(src.body.bones);
  out.body.fingers.set(src.body.fingers);
  out.body.left_hand = src.body.left_hand;
  out.body.right_hand = src.body.right_hand;
  out.hasBody = src.hasBody;
  return out;
}

/** out.body = a.body -> b.body at t: bones by spherical interpolation, fingers linearly. */
export function lerpBody(out, a, b, t) {
  const ab = a.body.bones;
  const bb = b.body.bones;
  const ob = out.body.bones;
  for (let i = 0; i < BODY_BONE_COUNT * 4; i += 4) {
    let d = ab[i] * bb[i] + ab[i + 1] * bb[i + 1] + ab[i + 2] * bb[i + 2] + ab[i + 3] * bb[i + 3];
    const sign = d < 0 ? -1 : 1;
    d *= sign;
    let wa = 1 - t;
    let wb = t * sign;
    if (d < 0.9995) {
      const th = Math.acos(d);
      const sn = Math.sin(th);
      wa = Math.sin((1 - t) * th) / sn;
      wb = (Math.sin(t * th) / sn) * sign;
    }
    let n = 0;
    for (let k = 0; k < 4; k++) {
      ob[i + k] = ab[i + k] * wa + bb[i + k] * wb;
      n += ob[i + k] * ob[i + k];
    }
    n = Math.sqrt(n) || 1;
    for (let k = 0; k < 4; k++) ob[i + k] /= n;
  }
  for (let i = 0; i < FINGER_COUNT; i++) out.body.fingers[i] = lerp(a.body.fingers[i], b.body.fingers[i], t);
  out.body.left_hand = b.body.left_hand;
  out.body.right_hand = b.body.right_hand;
  out.hasBody = b.hasBody;
  return out;
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

/** Fill the body from a decoded version 2 frame that carries one (else leave it). */
export function bodyFromFrame(out, frame) {
  if (!frame.body) return false;
  out.body.bones.set(frame.body.bones);
  out.body.fingers.set(frame.body.fingers);
  out.body.left_hand = frame.body.left_hand;
  out.body.right_hand = frame.body.right_hand;
  out.hasBody = true;
  return true;
}

/**
 * The frame fields (frame_codec.encodeFrame input) for params.
 * @param {{version?:1|2, withBody?:boolean}} [opts] version 2 frames carry the body when withBody
 */
export function frameFields(params, seq, timestampMs, { version = 1, withBody = false } = {}) {
  return {
    version,
    body: version === 2 && withBody && params.hasBody ? params.body : null,
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
