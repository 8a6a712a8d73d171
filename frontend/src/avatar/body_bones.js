// The body section (frame version 2) as VRM humanoid bone rotations, for the VRM renderer, and
// as hand positions, for the 2D renderer. Rotations are in VRM 1.0 normalized space (the avatar
// faces +Z, its left is +X, T-pose at rest); the VRM renderer flips them for VRM 0.x models.
import { BODY_BONES, FINGERS } from "../call/frame_codec.js";
import { SIDES } from "../tracking/body_solver.js";
import { axisAngle, dot, mul, rotate } from "../tracking/quat.js";

const FINGER_JOINTS = Object.freeze({
  thumb: ["ThumbMetacarpal", "ThumbProximal", "ThumbDistal"],
  index: ["IndexProximal", "IndexIntermediate", "IndexDistal"],
  middle: ["MiddleProximal", "MiddleIntermediate", "MiddleDistal"],
  ring: ["RingProximal", "RingIntermediate", "RingDistal"],
  little: ["LittleProximal", "LittleIntermediate", "LittleDistal"],
});
// The thumb closes across the palm: around the axis perpendicular to its rest direction
// (forward and out, about 45 degrees) and to the palm normal. Its spread (sent relative to a
// relaxed thumb) turns it around the palm normal like the other fingers.
const THUMB_CURL_AXIS = { left: [Math.SQRT1_2, 0, -Math.SQRT1_2], right: [Math.SQRT1_2, 0, Math.SQRT1_2] };

/** Every bone name the body drives (the 11 body bones and 30 finger joints). */
export const BODY_DRIVEN_BONES = Object.freeze([
  ...BODY_BONES,
  ...["left", "right"].flatMap((s) => FINGERS.flatMap((f) => FINGER_JOINTS[f].map((j) => `${s}${j}`))),
]);

/**
 * Bone name -> local quaternion [x, y, z, w] for a body section.
 * @param {{bones:Float32Array, fingers:Float32Array}} body
 * @returns {Map<string, number[]>}
 */
export function boneRotations(body) {
  const out = new Map();
  BODY_BONES.forEach((name, i) => out.set(name, Array.from(body.bones.subarray(4 * i, 4 * i + 4))));
  ["left", "right"].forEach((s, h) => {
    const { curlAxis, spreadAxis } = SIDES[s];
    FINGERS.forEach((finger, f) => {
      const [spread, c1, c2, c3] = body.fingers.subarray(h * 20 + f * 4, h * 20 + f * 4 + 4);
      const axis = finger === "thumb" ? THUMB_CURL_AXIS[s] : curlAxis;
      const [j1, j2, j3] = FINGER_JOINTS[finger];
      out.set(`${s}${j1}`, mul(axisAngle(spreadAxis, spread), axisAngle(axis, c1)));
      out.set(`${s}${j2}`, axisAngle(axis, c2));
      out.set(`${s}${j3}`, axisAngle(axis, c3));
    });
  });
  return out;
}

/**
 * Where the hands are, relative to the shoulders, for a flat drawing: x in upper-arm lengths
 * (positive = the avatar's left, which the viewer sees on the right), y up from the shoulder,
 * and `raised` when the hand is above the elbow-height line in front of the chest.
 */
export function handPositions(body) {
  const q = (name) => {
    const i = 4 * BODY_BONES.indexOf(name);
    return Array.from(body.bones.subarray(i, i + 4));
  };
  const chest = mul(q("spine"), q("chest"));
  const out = {};
  for (const s of ["left", "right"]) {
    const dir = SIDES[s].restDir;
    const upperW = mul(mul(chest, q(`${s}Shoulder`)), q(`${s}UpperArm`));
    const lowerW = mul(upperW, q(`${s}LowerArm`));
    const elbow = rotate(upperW, dir);
    const fore = rotate(lowerW, dir);
    const hand = [elbow[0] + fore[0] * 0.9, elbow[1] + fore[1] * 0.9, elbow[2] + fore[2] * 0.9];
    const shoulderX = s === "left" ? 0.6 : -0.6;
    out[s] = {
      x: shoulderX + hand[0],
      y: hand[1],
      angle: Math.atan2(fore[0], fore[1]), // the forearm's lean from straight up, as drawn (x right, y up)
      raised: hand[1] > -0.9,
      tracked: Boolean(body[`${s}_hand`]),
    };
  }
  return out;
}

/**
 * Joint angles of a body section, radians (tests and the stats hooks): per side the elbow flexion,
 * the upper arm's elevation above horizontal (as the chest carries it) and the wrist's bend (how
 * far the hand points off the forearm's line; its twist about that line is left out).
 */
export function armAngles(body) {
  const q = (name) => {
    const i = 4 * BODY_BONES.indexOf(name);
    return Array.from(body.bones.subarray(i, i + 4));
  };
  const angle = (r) => 2 * Math.acos(Math.min(1, Math.abs(r[3])));
  const chest = mul(q("spine"), q("chest"));
  const out = {};
  for (const s of ["left", "right"]) {
    const upperW = mul(mul(chest, q(`${s}Shoulder`)), q(`${s}UpperArm`));
    const dir = rotate(upperW, SIDES[s].restDir);
    out[s] = {
      elbow: angle(q(`${s}LowerArm`)),
      elevation: Math.asin(Math.max(-1, Math.min(1, dir[1]))),
      wrist: Math.acos(Math.max(-1, Math.min(1, dot(rotate(q(`${s}Hand`), SIDES[s].restDir), SIDES[s].restDir)))),
    };
  }
  return out;
}
