// Landmarks -> VRM humanoid bone rotations (the frame version 2 body section).
//
// Input: MediaPipe Pose world landmarks (33 points, metres, camera axes: x to the image's right,
// y down, z away from the camera) with their visibility, and MediaPipe Hands world landmarks
// (21 points per hand, same axes) matched to the pose's wrists. Output: local rotations of the
// normalized humanoid bones in VRM 1.0 space (the avatar faces +Z, its left is +X, T-pose at
// rest), plus 40 finger angles (frame_codec FINGERS order, [spread, curl1, curl2, curl3]).
//
// Why our own solver rather than kalidokit (evaluated, see docs/tracking.md): kalidokit returns
// Euler angles tuned by hand for VRM 0.x bones with per-bone multipliers, has no elbow limit (its
// elbow bends either way), no hold when a hand leaves the frame, and trusts MediaPipe's handedness
// label, which is swapped on unmirrored frames. Here each arm is one hinge: the elbow only flexes
// (0..150 degrees around the upper arm's hinge axis) and the upper arm's twist is limited, so the
// forearm can never bend backwards.
import {
  IDENTITY, add, angleBetween, axisAngle, clampAngle, conj, cross, dot, fromFrames, fromTo, length, mid, mul,
  normalize, qnormalize, rotate, scale, slerp, sub,
} from "./quat.js";
import { OneEuroFilter } from "./one_euro.js";
import { BODY_BONES, FINGERS, createBody } from "../call/frame_codec.js";

export const POSE = Object.freeze({
  nose: 0, leftShoulder: 11, rightShoulder: 12, leftElbow: 13, rightElbow: 14, leftWrist: 15, rightWrist: 16,
  leftPinky: 17, rightPinky: 18, leftIndex: 19, rightIndex: 20, leftHip: 23, rightHip: 24,
});
// Hand landmarks: wrist, then four points per finger from the palm out.
export const HAND_FINGER_POINTS = Object.freeze({
  thumb: [1, 2, 3, 4], index: [5, 6, 7, 8], middle: [9, 10, 11, 12], ring: [13, 14, 15, 16], little: [17, 18, 19, 20],
});

export const ELBOW_MAX = (150 * Math.PI) / 180; // flexion limit; never below 0 (no hyperextension)
export const TWIST_MAX = (95 * Math.PI) / 180; // upper-arm twist away from the swing-only frame (shoulder rotation range)
export const WRIST_MAX = (80 * Math.PI) / 180;
export const HOLD_MS = 600; // a lost arm/hand keeps its last pose this long (tracking blinks)...
export const RELAX_MS = 900; // ...then eases to the rest pose over this long
const VISIBLE = 0.5; // MediaPipe visibility above which a landmark counts as seen

const X = [1, 0, 0];
const Y = [0, 1, 0];
const Z = [0, 0, 1];
const BONE = Object.fromEntries(BODY_BONES.map((n, i) => [n, i]));
const side = (s) => ({
  restDir: s === "left" ? X : [-1, 0, 0],
  restHinge: s === "left" ? [0, -1, 0] : Y, // elbow flexion brings the forearm forward (+Z)
  curlAxis: s === "left" ? [0, 0, -1] : Z, // fingers close towards the palm (-Y at rest)
  spreadAxis: s === "left" ? [0, -1, 0] : Y, // positive spread turns a finger to the thumb side (+Z)
});
export const SIDES = Object.freeze({ left: side("left"), right: side("right") });

/** Rest pose: arms down at the sides, elbows a little bent, fingers relaxed. */
export function restBody() {
  const body = createBody();
  const set = (name, q) => body.bones.set(q, 4 * BONE[name]);
  set("leftUpperArm", axisAngle([0, 0, -1], 1.2));
  set("rightUpperArm", axisAngle(Z, 1.2));
  set("leftLowerArm", axisAngle(SIDES.left.restHinge, 0.2));
  set("rightLowerArm", axisAngle(SIDES.right.restHinge, 0.2));
  for (let h = 0; h < 2; h++) {
    for (let f = 0; f < FINGERS.length; f++) {
      const o = h * 20 + f * 4;
      body.fingers.set([0, 0.25, 0.3, 0.2], o);
    }
  }
  return body;
}

/** Camera-space landmark -> avatar space; `mirror` reflects left and right (see BodySolver). */
export function toAvatar(p, mirror) {
  return [mirror ? -p[0] : p[0], -p[1], -p[2]];
}

/**
 * One arm: shoulder, elbow, wrist in avatar space, and the parent's world rotation (the chest and
 * shoulder above the upper arm). Returns local rotations {upper, lower} and the world rotation of
 * the forearm, with the elbow limited to a forward flexion of 0..ELBOW_MAX.
 */
export function solveArm(shoulder, elbow, wrist, s, parentWorld = IDENTITY) {
  const { restDir, restHinge } = SIDES[s];
  const u = normalize(sub(elbow, shoulder));
  const l = normalize(sub(wrist, elbow));
  const swing = fromTo(restDir, u);
  const natural = rotate(swing, restHinge); // the hinge with no twist of the upper arm
  const bend = angleBetween(u, l);
  let world = swing;
  const measured = cross(u, l);
  if (length(measured) > 1e-4) {
    // Twist the upper arm so its hinge matches the measured bend plane, within TWIST_MAX. A straight
    // arm's plane is noise, so the twist fades in with the bend.
    const hinge = normalize(measured);
    let twist = Math.atan2(dot(cross(natural, hinge), u), dot(natural, hinge));
    twist = Math.max(-TWIST_MAX, Math.min(TWIST_MAX, twist));
    const w = Math.min(1, Math.max(0, (Math.sin(bend) - 0.03) / 0.1));
    world = qnormalize(mul(axisAngle(u, twist * w), swing));
  }
  // Flexion measured around the hinge the upper arm really has: a forearm on the wrong side of
  // that hinge (bent backwards) is straightened, never bent the other way.
  const hingeWorld = rotate(world, restHinge);
  const fwd = cross(hingeWorld, u); // where flexion moves the forearm
  let flex = Math.atan2(dot(l, fwd), dot(l, u));
  flex = Math.max(0, Math.min(ELBOW_MAX, flex));
  const upper = qnormalize(mul(conj(parentWorld), world));
  const lower = axisAngle(restHinge, flex);
  return { upper, lower, upperWorld: world, lowerWorld: qnormalize(mul(world, lower)), flex };
}

/**
 * The hand's world rotation from wrist, index-finger base and little-finger base (avatar space).
 * At rest the fingers point along the arm and the back of the hand faces up (+Y).
 */
export function handWorld(wrist, indexBase, littleBase, s) {
  const { restDir } = SIDES[s];
  const a = sub(indexBase, wrist);
  const b = sub(littleBase, wrist);
  const dir = normalize(add(a, b));
  const back = normalize(s === "left" ? cross(a, b) : cross(b, a));
  return fromFrames(restDir, Y, dir, back);
}

/**
 * Finger angles of one hand from its 21 landmarks (avatar space) and the hand's world rotation:
 * 20 numbers, per finger [spread, curl1, curl2, curl3] in FINGERS order.
 */
export function solveFingers(points, handQ, s) {
  const { restDir, curlAxis } = SIDES[s];
  const out = new Float32Array(20);
  const dir = rotate(handQ, restDir);
  const curlW = rotate(handQ, curlAxis);
  const thumbSide = rotate(handQ, Z);
  const back = rotate(handQ, Y);
  FINGERS.forEach((finger, f) => {
    const pts = [points[0], ...HAND_FINGER_POINTS[finger].map((i) => points[i])];
    const segs = [];
    for (let k = 0; k + 1 < pts.length; k++) segs.push(sub(pts[k + 1], pts[k]));
    // segs[0] is wrist -> finger base (inside the palm), then the three bones of the finger.
    const first = segs[1];
    const planar = sub(first, scale(back, dot(first, back)));
    let spread = Math.atan2(dot(planar, thumbSide), dot(planar, dir));
    if (finger === "thumb") spread -= 0.5; // a relaxed thumb points about 30 degrees off the fingers
    const curls = [];
    for (let k = 0; k < 3; k++) {
      const a = segs[k];
      const b = segs[k + 1];
      const ang = angleBetween(a, b);
      const sign = finger === "thumb" || dot(cross(a, b), curlW) >= 0 ? 1 : -1;
      curls.push(Math.max(-0.35, Math.min(1.9, sign * ang)));
    }
    out.set([Math.max(-0.6, Math.min(0.6, spread)), ...curls], f * 4);
  });
  return out;
}

/** The torso's world rotation from shoulders and hips (hips may be out of the picture). */
export function torsoWorld(lSh, rSh, lHip, rHip, hipsSeen) {
  const across = normalize(sub(lSh, rSh));
  const up = hipsSeen ? normalize(sub(mid(lSh, rSh), mid(lHip, rHip))) : Y;
  return fromFrames(X, Y, across, up);
}

function filterPoint(filters, key, p, t) {
  let f = filters.get(key);
  if (!f) {
    // Landmarks jitter by centimetres at rest; a quick wave must not lag (beta).
    f = [0, 1, 2].map(() => new OneEuroFilter(1.2, 8, 1.0));
    filters.set(key, f);
  }
  return [f[0].filter(p[0], t), f[1].filter(p[1], t), f[2].filter(p[2], t)];
}

/**
 * Stateful solver: One Euro filtering of the landmarks, hold-then-relax when an arm or hand is
 * lost, per-part sensitivity and mirroring.
 */
export class BodySolver {
  /**
   * @param {{mirror?:boolean, bodySensitivity?:number, handSensitivity?:number}} opts
   *   mirror: the avatar moves like a mirror image (raise your right hand, it raises its left);
   *   sensitivities 0..2 scale the torso and finger rotations (1 = as tracked).
   */
  constructor({ mirror = false, bodySensitivity = 1, handSensitivity = 1 } = {}) {
    this.mirror = mirror;
    this.bodySensitivity = bodySensitivity;
    this.handSensitivity = handSensitivity;
    this.filters = new Map();
    this.body = restBody();
    this.rest = restBody();
    this.lastSeen = { left: -Infinity, right: -Infinity, torso: -Infinity, leftHand: -Infinity, rightHand: -Infinity };
    this.held = restBody(); // the pose at the moment a part was lost
  }

  configure({ mirror, bodySensitivity, handSensitivity } = {}) {
    if (mirror !== undefined && mirror !== this.mirror) {
      this.mirror = Boolean(mirror);
      this.filters.clear();
    }
    if (bodySensitivity !== undefined) this.bodySensitivity = bodySensitivity;
    if (handSensitivity !== undefined) this.handSensitivity = handSensitivity;
  }

  /**
   * @param {{pose?:{world:number[][], visibility?:number[]}|null,
   *          hands?:Array<{world:number[][], side:"left"|"right"}>, t:number}} input
   *   hands[].side: which of the person's hands it is (match it to the pose wrists, not to
   *   MediaPipe's handedness label)
   * @returns body section (frame_codec createBody shape), a new object each call
   */
  solve({ pose = null, hands = [], t }) {
    const out = createBody();
    out.bones.set(this.body.bones);
    out.fingers.set(this.body.fingers);
    const seen = { left: false, right: false, leftHand: false, rightHand: false };
    if (pose && pose.world && pose.world.length >= 25) {
      const vis = pose.visibility || [];
      const visible = (i) => (vis[i] === undefined ? 1 : vis[i]) >= VISIBLE;
      // Mirroring reflects the points and swaps the sides, so the result is still a left/right
      // consistent skeleton.
      const idx = (name) => {
        if (!this.mirror) return POSE[name];
        const swapped = name.startsWith("left") ? `right${name.slice(4)}` : name.startsWith("right") ? `left${name.slice(5)}` : name;
        return POSE[swapped];
      };
      const P = (name) => filterPoint(this.filters, name, toAvatar(pose.world[idx(name)], this.mirror), t);
      if (visible(idx("leftShoulder")) && visible(idx("rightShoulder"))) {
        const hipsSeen = visible(idx("leftHip")) && visible(idx("rightHip"));
        let torso = torsoWorld(P("leftShoulder"), P("rightShoulder"), P("leftHip"), P("rightHip"), hipsSeen);
        torso = clampAngle(slerp(IDENTITY, torso, Math.min(2, this.bodySensitivity)), 0.8);
        const half = slerp(IDENTITY, torso, 0.5);
        this._setBone(out, "spine", half);
        this._setBone(out, "chest", half);
        this._setBone(out, "neck", conj(torso)); // the face tracker turns the head in camera space
        this.lastSeen.torso = t;
        for (const s of ["left", "right"]) {
          if (!(visible(idx(`${s}Elbow`)) && visible(idx(`${s}Wrist`)))) continue;
          const sh = P(`${s}Shoulder`);
          const el = P(`${s}Elbow`);
          const wr = P(`${s}Wrist`);
          // A shrug: the shoulder lifts with the arm once it is raised above horizontal.
          const elevation = Math.asin(Math.max(-1, Math.min(1, normalize(sub(el, sh))[1])));
          const shrug = axisAngle(s === "left" ? Z : [0, 0, -1], Math.max(0, elevation) * 0.2);
          this._setBone(out, `${s}Shoulder`, shrug);
          const parent = mul(torso, shrug);
          const arm = solveArm(sh, el, wr, s, parent);
          this._setBone(out, `${s}UpperArm`, arm.upper);
          this._setBone(out, `${s}LowerArm`, arm.lower);
          const hand = (hands || []).find((h) => h.side === (this.mirror ? (s === "left" ? "right" : "left") : s));
          let hq;
          if (hand && hand.world && hand.world.length === 21) {
            const pts = hand.world.map((p) => toAvatar(p, this.mirror));
            hq = handWorld(pts[0], pts[5], pts[17], s);
            const fingers = solveFingers(pts, hq, s);
            const k = Math.min(2, this.handSensitivity);
            for (let i = 0; i < 20; i++) fingers[i] *= k;
            out.fingers.set(fingers, s === "left" ? 0 : 20);
            seen[`${s}Hand`] = true;
            this.lastSeen[`${s}Hand`] = t;
          } else if (visible(idx(`${s}Index`)) && visible(idx(`${s}Pinky`))) {
            hq = handWorld(wr, P(`${s}Index`), P(`${s}Pinky`), s);
          }
          if (hq) this._setBone(out, `${s}Hand`, clampAngle(mul(conj(arm.lowerWorld), hq), WRIST_MAX));
          seen[s] = true;
          this.lastSeen[s] = t;
        }
      }
    }
    this._holdOrRelax(out, seen, t);
    this.body = out;
    out.left_hand = seen.leftHand;
    out.right_hand = seen.rightHand;
    return out;
  }

  _setBone(body, name, q) {
    body.bones.set(qnormalize(q), 4 * BONE[name]);
  }

  // Parts not seen this frame keep their last pose for HOLD_MS (the landmarks drop out for a
  // frame or two all the time), then ease to the rest pose over RELAX_MS.
  _holdOrRelax(out, seen, t) {
    const ease = (since) => {
      const x = Math.min(1, Math.max(0, (t - since - HOLD_MS) / RELAX_MS));
      return x * x * (3 - 2 * x);
    };
    const relaxBones = (names, since) => {
      const w = ease(since);
      if (w <= 0) return;
      for (const n of names) {
        const i = 4 * BONE[n];
        const q = slerp(Array.from(this.body.bones.subarray(i, i + 4)), Array.from(this.rest.bones.subarray(i, i + 4)), w);
        out.bones.set(qnormalize(q), i);
      }
    };
    if (!seen.left) relaxBones(["leftShoulder", "leftUpperArm", "leftLowerArm", "leftHand"], this.lastSeen.left);
    if (!seen.right) relaxBones(["rightShoulder", "rightUpperArm", "rightLowerArm", "rightHand"], this.lastSeen.right);
    if (this.lastSeen.torso !== t) relaxBones(["spine", "chest", "neck"], this.lastSeen.torso);
    for (const [s, o] of [["left", 0], ["right", 20]]) {
      if (seen[`${s}Hand`]) continue;
      const w = ease(this.lastSeen[`${s}Hand`]);
      for (let i = o; i < o + 20; i++) out.fingers[i] = this.body.fingers[i] + (this.rest.fingers[i] - this.body.fingers[i]) * w;
    }
  }
}
