// Landmark sets built from known joint angles with plain trigonometry (no code shared with the
// solver), in MediaPipe's camera axes (x to the image's right, y down, z away from the camera).
// The person faces the camera; their left is the image's right (an unmirrored camera).

const D = Math.PI / 180;
export const deg = (d) => d * D;
const UPPER = 0.28;
const FORE = 0.25;

// Avatar space (y up, z towards the camera, x = the person's left) -> camera space.
export const toCamera = (p) => [p[0], -p[1], -p[2]];
const add = (a, b, s = 1) => [a[0] + b[0] * s, a[1] + b[1] * s, a[2] + b[2] * s];
const unit = (v) => {
  const n = Math.hypot(...v);
  return v.map((c) => c / n);
};

/**
 * One arm from angles: the upper arm at `elevation` above horizontal and `forward` towards the
 * camera (0 = straight out to the side), the forearm bent by `flex` towards `bendDir` (its part
 * perpendicular to the upper arm is used). side: "left" (x > 0) or "right".
 */
export function armPoints(side, { elevation, forward, flex, bendDir }) {
  const sx = side === "left" ? 1 : -1;
  const shoulder = [0.18 * sx, 1.4, 0];
  const u = [sx * Math.cos(elevation) * Math.cos(forward), Math.sin(elevation), Math.cos(elevation) * Math.sin(forward)];
  // The bend direction made perpendicular to the upper arm, so `flex` is the elbow's true angle.
  const k = bendDir[0] * u[0] + bendDir[1] * u[1] + bendDir[2] * u[2];
  const n = unit([bendDir[0] - k * u[0], bendDir[1] - k * u[1], bendDir[2] - k * u[2]]);
  const l = unit(add(u.map((c) => c * Math.cos(flex)), n, Math.sin(flex)));
  const elbow = add(shoulder, u, UPPER);
  const wrist = add(elbow, l, FORE);
  return { shoulder, elbow, wrist, u, l };
}

/** 33 pose landmarks (camera space) with the given arms; everything visible unless `hidden`. */
export function posePoints({ left, right, hidden = [] }) {
  const world = Array.from({ length: 33 }, () => [0, 0, 0]);
  const put = (i, p) => {
    world[i] = toCamera(p);
  };
  put(0, [0, 1.62, 0.08]);
  put(23, [0.1, 0.95, 0]);
  put(24, [-0.1, 0.95, 0]);
  for (const [arm, sh, el, wr, pinky, index] of [[left, 11, 13, 15, 17, 19], [right, 12, 14, 16, 18, 20]]) {
    put(sh, arm.shoulder);
    put(el, arm.elbow);
    put(wr, arm.wrist);
    // Hand points continue the forearm, the index towards the camera side of the palm.
    const tip = add(arm.wrist, arm.l, 0.08);
    put(index, add(tip, [0, 0, 1], 0.02));
    put(pinky, add(tip, [0, 0, 1], -0.02));
  }
  const visibility = Array.from({ length: 33 }, (_, i) => (hidden.includes(i) ? 0.05 : 0.99));
  return { world, visibility };
}

/**
 * A left or right hand, palm down, fingers pointing out to the side (the VRM T-pose hand), each
 * finger curled by [c1, c2, c3] radians towards the palm. 21 camera-space points.
 */
export function handPoints(side, curls, { tiltDown = 0 } = {}) {
  const sx = side === "left" ? 1 : -1;
  const wristAt = [0, 0, 0];
  const pts = [wristAt];
  const fingers = [
    { base: [0.03, 0, 0.035], len: [0.04, 0.03, 0.025] }, // thumb (cmc, then three bones)
    { base: [0.09, 0, 0.025], len: [0.04, 0.025, 0.02] },
    { base: [0.095, 0, 0.0], len: [0.045, 0.03, 0.02] },
    { base: [0.09, 0, -0.02], len: [0.04, 0.028, 0.02] },
    { base: [0.08, 0, -0.04], len: [0.032, 0.02, 0.018] },
  ];
  fingers.forEach((f, i) => {
    const c = curls[i];
    let p = add(wristAt, [f.base[0] * sx, f.base[1], f.base[2]]);
    pts.push(p);
    // The palm segment wrist -> base, then each bone turned further towards -y (the palm side).
    const palmDir = unit([f.base[0] * sx, 0, f.base[2]]);
    let a = 0;
    for (let k = 0; k < 3; k++) {
      a += c[k];
      const d = [palmDir[0] * Math.cos(a), -Math.sin(a), palmDir[2] * Math.cos(a)];
      p = add(p, unit(d), f.len[k]);
      pts.push(p);
    }
  });
  // Wrist flexion: the whole hand turned about the wrist so the fingers point `tiltDown` below
  // the forearm's line.
  const c = Math.cos(tiltDown);
  const s = Math.sin(tiltDown) * sx;
  return pts.map(([x, y, z]) => toCamera([x * c + y * s, -x * s + y * c, z]));
}
