// Emotion -> avatar parameters with per-parameter lerp, plus idle motion (blink, breathing,
// sway) and a talking mouth. Pure logic (no DOM), so Node tests drive it with a fake clock.
//
// The emotion table comes from /api/chat/emotions (editable in admin):
//   { happy: { expressions: {happy, sad, angry, surprised, relaxed}, head: {pitch, yaw, roll},
//              transition: seconds, transitions: {param: seconds} }, ... }
// A new emotion blends every parameter from where it is now to its target over that
// parameter's transition time (0.1–0.5 s), linearly (lerp), so nothing jumps.

export const EXPRESSION_KEYS = Object.freeze(["happy", "sad", "angry", "surprised", "relaxed"]);
export const HEAD_KEYS = Object.freeze(["head_pitch", "head_yaw", "head_roll"]);
export const PARAM_KEYS = Object.freeze([...EXPRESSION_KEYS, ...HEAD_KEYS]);
export const EMOTIONS = Object.freeze(["neutral", "happy", "sad", "angry", "surprised", "excited"]);

const clamp = (v, lo, hi) => (v < lo ? lo : v > hi ? hi : v);
export const lerp = (a, b, t) => a + (b - a) * t;

/** Targets and per-parameter durations (seconds, clamped to 0.1–0.5) of one emotion. */
export function poseTargets(table, emotion) {
  const pose = (table && (table[emotion] || table.neutral)) || {};
  const expressions = pose.expressions || {};
  const head = pose.head || {};
  const base = clamp(Number(pose.transition) || 0.3, 0.1, 0.5);
  const overrides = pose.transitions || {};
  const targets = {};
  const durations = {};
  for (const key of EXPRESSION_KEYS) targets[key] = clamp(Number(expressions[key]) || 0, 0, 1);
  targets.head_pitch = clamp(Number(head.pitch) || 0, -30, 30);
  targets.head_yaw = clamp(Number(head.yaw) || 0, -30, 30);
  targets.head_roll = clamp(Number(head.roll) || 0, -30, 30);
  for (const key of PARAM_KEYS) {
    const o = Number(overrides[key]);
    durations[key] = Number.isFinite(o) && o > 0 ? clamp(o, 0.1, 0.5) : base;
  }
  return { targets, durations };
}

export class ExpressionAnimator {
  /**
   * @param {object} table emotion table
   * @param {{random?: () => number, now?: number, emotion?: string}} options
   */
  constructor(table, { random = Math.random, now = 0, emotion = "neutral" } = {}) {
    this.table = table || {};
    this.random = random;
    this.values = {};
    this.tracks = {};
    const { targets } = poseTargets(this.table, emotion);
    for (const key of PARAM_KEYS) {
      this.values[key] = targets[key];
      this.tracks[key] = null;
    }
    this.emotion = EMOTIONS.includes(emotion) ? emotion : "neutral";
    this.speaking = false;
    this.nextBlink = now + this._blinkGap();
    this.blinkStart = -1;
    this.swaySeed = random() * 1000;
  }

  _blinkGap() {
    return 2000 + this.random() * 4000; // a blink every 2–6 s
  }

  /** Start blending to `emotion` (unknown names become neutral). */
  setEmotion(emotion, now) {
    const name = EMOTIONS.includes(emotion) ? emotion : "neutral";
    this.emotion = name;
    const { targets, durations } = poseTargets(this.table, name);
    for (const key of PARAM_KEYS) {
      this.tracks[key] = { from: this.values[key], to: targets[key], start: now, duration: durations[key] * 1000 };
    }
  }

  setSpeaking(speaking) {
    this.speaking = Boolean(speaking);
  }

  /** Advance to `now` (ms) and return the frame to draw. */
  update(now) {
    for (const key of PARAM_KEYS) {
      const track = this.tracks[key];
      if (!track) continue;
      const t = track.duration > 0 ? clamp((now - track.start) / track.duration, 0, 1) : 1;
      this.values[key] = lerp(track.from, track.to, t);
      if (t >= 1) this.tracks[key] = null;
    }
    // Blink: close over 70 ms, open over 90 ms.
    let blink = 0;
    if (this.blinkStart < 0 && now >= this.nextBlink) this.blinkStart = now;
    if (this.blinkStart >= 0) {
      const e = now - this.blinkStart;
      if (e < 70) blink = e / 70;
      else if (e < 160) blink = 1 - (e - 70) / 90;
      else {
        this.blinkStart = -1;
        this.nextBlink = now + this._blinkGap();
      }
    }
    const s = now / 1000;
    const breath = Math.sin(s * Math.PI * 2 * 0.25); // ~15 breaths a minute
    const swayAmp = this.speaking ? 0.5 : 1;
    const sway = {
      yaw: swayAmp * 1.6 * Math.sin(s * 0.31 + this.swaySeed) + 0.6 * Math.sin(s * 0.83 + this.swaySeed * 2),
      roll: swayAmp * 1.2 * Math.sin(s * 0.23 + this.swaySeed * 3),
      pitch: 0.8 * breath,
    };
    return {
      emotion: this.emotion,
      expressions: Object.fromEntries(EXPRESSION_KEYS.map((k) => [k, this.values[k]])),
      head: {
        pitch: this.values.head_pitch + sway.pitch,
        yaw: this.values.head_yaw + sway.yaw,
        roll: this.values.head_roll + sway.roll,
      },
      blink,
      breath,
      mouth: 0, // the text (text_visemes.js) or the voice (visemes.js) moves the mouth
      transitioning: PARAM_KEYS.some((k) => this.tracks[k] !== null),
    };
  }
}
