// Small vector/quaternion helpers for the body solver. They run in the tracking worker 15-30 times
// a second on plain arrays ([x, y, z] and [x, y, z, w]); three.js would do the same but would pull
// its scene graph into the worker bundle for a dozen functions.

export const sub = (a, b) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
export const add = (a, b) => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
export const scale = (a, s) => [a[0] * s, a[1] * s, a[2] * s];
export const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
export const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
export const length = (a) => Math.sqrt(dot(a, a));
export const mid = (a, b) => [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2];

export function normalize(a) {
  const n = length(a);
  return n > 1e-9 ? [a[0] / n, a[1] / n, a[2] / n] : [0, 0, 0];
}

/** Angle between two vectors, radians in [0, pi]. */
export function angleBetween(a, b) {
  const n = length(a) * length(b);
  if (n < 1e-12) return 0;
  return Math.acos(Math.max(-1, Math.min(1, dot(a, b) / n)));
}

export const IDENTITY = Object.freeze([0, 0, 0, 1]);

export function axisAngle(axis, angle) {
  const n = normalize(axis);
  const s = Math.sin(angle / 2);
  return [n[0] * s, n[1] * s, n[2] * s, Math.cos(angle / 2)];
}

/** Hamilton product a * b (apply b first, then a). */
export function mul(a, b) {
  return [
    a[3] * b[0] + a[0] * b[3] + a[1] * b[2] - a[2] * b[1],
    a[3] * b[1] - a[0] * b[2] + a[1] * b[3] + a[2] * b[0],
    a[3] * b[2] + a[0] * b[1] - a[1] * b[0] + a[2] * b[3],
    a[3] * b[3] - a[0] * b[0] - a[1] * b[1] - a[2] * b[2],
  ];
}

export const conj = (q) => [-q[0], -q[1], -q[2], q[3]];

export function rotate(q, v) {
  const p = mul(mul(q, [v[0], v[1], v[2], 0]), conj(q));
  return [p[0], p[1], p[2]];
}

export function qnormalize(q) {
  const n = Math.hypot(q[0], q[1], q[2], q[3]);
  return n > 1e-12 ? [q[0] / n, q[1] / n, q[2] / n, q[3] / n] : [0, 0, 0, 1];
}

/** Rotation angle of a unit quaternion, radians in [0, pi]. */
export const qangle = (q) => 2 * Math.acos(Math.min(1, Math.abs(q[3])));

/** The shortest rotation taking unit vector a onto unit vector b. */
export function fromTo(a, b) {
  const d = dot(a, b);
  if (d < -0.999999) {
    // Opposite: any axis perpendicular to a.
    let axis = cross([1, 0, 0], a);
    if (length(axis) < 1e-6) axis = cross([0, 1, 0], a);
    return axisAngle(axis, Math.PI);
  }
  const c = cross(a, b);
  return qnormalize([c[0], c[1], c[2], 1 + d]);
}

/**
 * The rotation taking the frame (restDir, restSide) onto (dir, side): first dir exactly, then
 * the twist around it that brings restSide closest to side. side need not be exactly
 * perpendicular to dir; when it is (nearly) parallel, the twist is left out.
 */
export function fromFrames(restDir, restSide, dir, side) {
  const swing = fromTo(restDir, dir);
  const swungSide = rotate(swing, restSide);
  // Project both sides onto the plane perpendicular to dir, then turn one onto the other.
  const p = normalize(sub(side, scale(dir, dot(side, dir))));
  const s = normalize(sub(swungSide, scale(dir, dot(swungSide, dir))));
  if (length(p) < 0.5 || length(s) < 0.5) return swing;
  const angle = Math.atan2(dot(cross(s, p), dir), dot(s, p));
  return qnormalize(mul(axisAngle(dir, angle), swing));
}

/** Spherical interpolation, shortest path. */
export function slerp(a, b, t) {
  let d = a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3];
  let bb = b;
  if (d < 0) {
    d = -d;
    bb = [-b[0], -b[1], -b[2], -b[3]];
  }
  if (d > 0.9995) {
    return qnormalize([a[0] + (bb[0] - a[0]) * t, a[1] + (bb[1] - a[1]) * t, a[2] + (bb[2] - a[2]) * t, a[3] + (bb[3] - a[3]) * t]);
  }
  const th = Math.acos(d);
  const s = Math.sin(th);
  const wa = Math.sin((1 - t) * th) / s;
  const wb = Math.sin(t * th) / s;
  return [a[0] * wa + bb[0] * wb, a[1] * wa + bb[1] * wb, a[2] * wa + bb[2] * wb, a[3] * wa + bb[3] * wb];
}

/** Limit a rotation to at most maxAngle radians (same axis). */
export function clampAngle(q, maxAngle) {
  const a = qangle(q);
  if (a <= maxAngle) return q;
  return slerp(IDENTITY, q, maxAngle / a);
}
