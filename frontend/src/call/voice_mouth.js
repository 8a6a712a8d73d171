// A mouth that follows the voice: the microphone's loudness opens the avatar's jaw, blended with
// face tracking. While the camera sees the face, tracking owns the mouth (it sees the real lips);
// with tracking off, the face lost or the camera refused, the voice takes over, so the avatar is
// not mute while its owner talks. The hand-over eases both ways (no pop when the face returns).
//
// Loudness only (no visemes): the level is the speaking detector's smoothed RMS (audio.js),
// mapped between a noise floor and a loud level, with a fast attack and a slower release so the
// jaw snaps open on syllables and does not flutter. Pure math, no DOM: node tests drive it.
import { BS } from "./frame_codec.js";

export const VOICE_FLOOR = 0.015; // RMS under this is silence (the mouth rests)
export const VOICE_LOUD = 0.15; // RMS at which the jaw is fully open
export const ATTACK_MS = 30; // time constant of opening
export const RELEASE_MS = 90; // time constant of closing
export const HANDOVER_MS = 250; // time constant of the tracking <-> voice hand-over
const JAW_MAX = 0.75; // a loud voice opens the jaw this far (wide open looks shouted)
const LOWER_LIP = 0.45; // the lower lip follows the jaw by this much

/** Mouth openness 0..1 for a smoothed RMS level (before attack/release). */
export function opennessFor(level) {
  if (!(level > VOICE_FLOOR)) return 0;
  const x = Math.min(1, (level - VOICE_FLOOR) / (VOICE_LOUD - VOICE_FLOOR));
  return x ** 0.7; // quieter speech still opens the mouth visibly
}

/** One exponential smoothing step toward `target` with time constant `tauMs` over `dtMs`. */
function approach(value, target, tauMs, dtMs) {
  if (!(dtMs > 0)) return value;
  return target + (value - target) * Math.exp(-dtMs / tauMs);
}

export class VoiceMouth {
  constructor() {
    this.openness = 0; // the voice's mouth, after attack/release
    this.weight = 0; // 0: tracking owns the mouth, 1: the voice does
    this.lastT = null;
  }

  /**
   * Blend the voice into `params.blendshapes` in place (the pipeline rewrites them every frame).
   * @param {{blendshapes:Float32Array|number[]}} params  the frame about to be sent
   * @param {{level:number, faceTracked:boolean, t:number}} input  level: smoothed mic RMS
   *   (0 when muted); faceTracked: the camera sees the face now; t: ms
   * @returns {number} the voice's weight used (0..1)
   */
  apply(params, { level, faceTracked, t }) {
    const first = this.lastT === null;
    const dt = first ? 0 : Math.min(200, Math.max(0, t - this.lastT)); // a stalled page does not jump
    this.lastT = t;
    const target = opennessFor(level);
    this.openness = approach(this.openness, target, target > this.openness ? ATTACK_MS : RELEASE_MS, dt);
    if (first) this.weight = faceTracked ? 0 : 1; // no hand-over to ease at the start
    else this.weight = approach(this.weight, faceTracked ? 0 : 1, HANDOVER_MS, dt);
    const w = this.weight;
    if (w < 0.001) return 0;
    const bs = params.blendshapes;
    const jaw = this.openness * JAW_MAX;
    // Never close a mouth the idle/held pose has open: the voice only adds opening.
    bs[BS.jawOpen] += (Math.max(bs[BS.jawOpen], jaw) - bs[BS.jawOpen]) * w;
    for (const i of [BS.mouthLowerDownLeft, BS.mouthLowerDownRight]) {
      bs[i] += (Math.max(bs[i], jaw * LOWER_LIP) - bs[i]) * w;
    }
    bs[BS.mouthClose] *= 1 - w * this.openness;
    return w;
  }
}
