// Chat animator frame -> the shared avatar parameter object (frontend/src/avatar/params.js), so
// the call page's renderers (2D canvas and VRM) show the character: expression weights become
// the blendshapes those renderers read, and are also held as VRM preset overrides.
import { BS } from "../avatar/params.js";

const DEG = Math.PI / 180;
const c01 = (v) => (v < 0 ? 0 : v > 1 ? 1 : v);

/**
 * @param {ReturnType<import("./expression.js").ExpressionAnimator["update"]>} f
 * @param {import("../avatar/params.js").AvatarParams} p  updated in place and returned
 */
export function frameToParams(f, p, speaking = false) {
  const e = f.expressions;
  const b = p.blendshapes;
  b.fill(0);
  p.rotation[0] = f.head.yaw * DEG;
  p.rotation[1] = f.head.pitch * DEG;
  p.rotation[2] = f.head.roll * DEG;
  const blink = 0.1 + 0.85 * c01(f.blink);
  b[BS.eyeBlinkLeft] = blink;
  b[BS.eyeBlinkRight] = blink;
  const smile = c01(e.happy > 0.01 ? 0.25 + 0.65 * e.happy : 0) + 0.15 * e.relaxed;
  b[BS.mouthSmileLeft] = c01(smile);
  b[BS.mouthSmileRight] = c01(smile);
  b[BS.cheekSquintLeft] = c01(0.6 * e.happy);
  b[BS.cheekSquintRight] = c01(0.6 * e.happy);
  b[BS.mouthFrownLeft] = c01(0.85 * e.sad + 0.2 * e.angry);
  b[BS.mouthFrownRight] = c01(0.85 * e.sad + 0.2 * e.angry);
  b[BS.browInnerUp] = c01(0.6 * e.sad + 0.7 * e.surprised);
  b[BS.browOuterUpLeft] = c01(0.7 * e.surprised);
  b[BS.browOuterUpRight] = c01(0.7 * e.surprised);
  b[BS.browDownLeft] = c01(0.25 + 0.7 * e.angry) * (e.angry > 0.01 ? 1 : 0);
  b[BS.browDownRight] = b[BS.browDownLeft];
  b[BS.eyeWideLeft] = c01(0.85 * e.surprised);
  b[BS.eyeWideRight] = c01(0.85 * e.surprised);
  b[BS.jawOpen] = c01(Math.max(0.75 * f.mouth, 0.45 * e.surprised));
  p.expressions = {
    happy: c01(e.happy),
    sad: c01(e.sad),
    angry: c01(e.angry),
    surprised: c01(e.surprised),
    relaxed: c01(e.relaxed),
    aa: c01(f.mouth * 0.8),
  };
  p.speaking = speaking;
  p.faceLost = false;
  return p;
}
