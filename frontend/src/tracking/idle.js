// Idle animation for when there is no face to follow (face lost, camera off or refused): a slow
// sway, breathing and natural blinks (every 2-6 s, ~150 ms, now and then a double blink), so the
// avatar never looks frozen.
import { BS } from "../call/frame_codec.js";

export class IdleAnimator {
  constructor(random = Math.random) {
    this.random = random;
    this.nextBlink = 0;
    this.blinkStart = -1;
    this.doubleBlink = false;
  }

  /** Write the idle pose for time `tMs` into params (rotation, position, blendshapes). */
  pose(params, tMs) {
    const t = tMs / 1000;
    params.rotation[0] = 0.06 * Math.sin(t * 0.5);
    params.rotation[1] = 0.03 * Math.sin(t * 0.37 + 1);
    params.rotation[2] = 0.025 * Math.sin(t * 0.29 + 2);
    params.position[0] = 0.6 * Math.sin(t * 0.23);
    params.position[1] = 0.4 * Math.sin(t * 1.6); // breathing
    params.position[2] = -45;
    const bs = params.blendshapes;
    bs.fill(0);
    bs[BS._neutral] = 1;
    bs[BS.mouthSmileLeft] = bs[BS.mouthSmileRight] = 0.12;
    bs[BS.jawOpen] = 0.02 + 0.02 * Math.sin(t * 1.6);
    const blink = this.blink(tMs);
    bs[BS.eyeBlinkLeft] = bs[BS.eyeBlinkRight] = blink;
    return params;
  }

  blink(tMs) {
    if (this.nextBlink === 0) this.nextBlink = tMs + 1000 + this.random() * 2000;
    if (this.blinkStart < 0 && tMs >= this.nextBlink) {
      this.blinkStart = tMs;
      this.doubleBlink = this.random() < 0.15;
    }
    if (this.blinkStart >= 0) {
      const dur = this.doubleBlink ? 420 : 160;
      const e = tMs - this.blinkStart;
      if (e >= dur) {
        this.blinkStart = -1;
        this.nextBlink = tMs + 2000 + this.random() * 4000;
        return 0;
      }
      const phase = (e % 160) / 160; // close then open
      return e > 160 && e < 260 ? 0 : Math.sin(Math.PI * Math.min(1, phase));
    }
    return 0;
  }
}
