// Head pose from MediaPipe's facial transformation matrix (4x4, column-major, canonical face
// model in centimetres: x to the image's right, y up, z toward the camera).
//
// We decompose R = Ry(yaw) * Rx(pitch) * Rz(roll): yaw turns the head left/right, pitch nods,
// roll tilts toward a shoulder. Angles are as the camera sees the face (not mirrored); the local
// preview mirrors the drawing instead.

/** @returns {{rotation:number[], position:number[]}} rotation [yaw, pitch, roll] in radians, position in cm */
export function poseFromMatrix(m) {
  // Column-major: element (row r, column c) is m[c * 4 + r].
  const r00 = m[0], r10 = m[1], r20 = m[2];
  const r01 = m[4], r11 = m[5], r21 = m[6];
  const r02 = m[8], r12 = m[9], r22 = m[10];
  // The matrix may carry a uniform scale (face size); normalize the columns.
  const sx = Math.hypot(r00, r10, r20) || 1;
  const sy = Math.hypot(r01, r11, r21) || 1;
  const sz = Math.hypot(r02, r12, r22) || 1;
  const a = r12 / sz; // -sin(pitch) for Ry*Rx*Rz
  const pitch = Math.asin(Math.max(-1, Math.min(1, -a)));
  const yaw = Math.atan2(r02 / sz, r22 / sz);
  const roll = Math.atan2(r10 / sx, r11 / sy);
  return { rotation: [yaw, pitch, roll], position: [m[12], m[13], m[14]] };
}
