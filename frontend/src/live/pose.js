// The live character's motion, DOM-free: emotion poses from the streamer's mapping, lerp on every
// parameter (its own time, 0.1-0.5 s), idle motion with random variation, a glance away before
// speaking, and the mouth from the voice's viseme timeline. Both outputs use it: the OBS avatar
// source (three-vrm / 2D) and the VTube Studio bridge.

export const DEFAULT_EMOTION_PARAMS = {
  neutral: { FaceAngleZ: 0, FaceAngleY: 0, BodyLean: 0, Smile: 0.1, BrowRaise: 0 },
  happy: { FaceAngleZ: 6, FaceAngleY: 4, BodyLean: 0.2, Smile: 1, BrowRaise: 0.3 },
  excited: { FaceAngleZ: 8, FaceAngleY: 8, BodyLean: 0.5, Smile: 1, BrowRaise: 0.8 },
  sad: { FaceAngleZ: -4, FaceAngleY: -10, BodyLean: -0.3, Smile: 0, BrowRaise: -0.6 },
  angry: { FaceAngleZ: 0, FaceAngleY: -4, BodyLean: 0.4, Smile: 0, BrowRaise: -1 },
  surprised: { FaceAngleZ: 0, FaceAngleY: 10, BodyLean: -0.4, Smile: 0.2, BrowRaise: 1 },
  relaxed: { FaceAngleZ: 3, FaceAngleY: 0, BodyLean: -0.1, Smile: 0.6, BrowRaise: 0 },
};

// Mouth opening per viseme (aa widest, silence closed).
export const VISEME_OPEN = { aa: 1, oh: 0.75, ou: 0.5, ee: 0.45, ih: 0.35, silence: 0 };

export function lerpTowards(value, target, dtS, lerpS) {
  if (lerpS <= 0) return target;
  return value + (target - value) * Math.min(1, dtS / lerpS);
}

// The mouth opening at `t` seconds into a clip, from [{t, v, w?}] sorted by t (step, with a short
// ease so the jaw does not snap).
export function mouthAt(visemes, t) {
  if (!Array.isArray(visemes) || !visemes.length || t < 0) return 0;
  let i = 0;
  while (i + 1 < visemes.length && visemes[i + 1].t <= t) i += 1;
  const cur = visemes[i];
  if (t < cur.t) return 0;
  const open = (VISEME_OPEN[cur.v] ?? 0) * (typeof cur.w === "number" ? Math.max(0, Math.min(1, cur.w)) : 1);
  const next = visemes[i + 1];
  if (!next) return open;
  const ease = 0.04; // s
  const toNext = next.t - t;
  if (toNext < ease) {
    const nextOpen = (VISEME_OPEN[next.v] ?? 0) * (typeof next.w === "number" ? next.w : 1);
    return open + (nextOpen - open) * (1 - toNext / ease);
  }
  return open;
}

export class PoseDriver {
  constructor({ emotionMap = {}, lerpS = { default: 0.3 }, random = Math.random } = {}) {
    this.emotionMap = emotionMap;
    this.lerpS = lerpS;
    this.random = random;
    this.values = {};
    this.targets = { ...DEFAULT_EMOTION_PARAMS.neutral };
    this.emotion = "neutral";
    this.clip = null; // {start, visemes, duration}
    this.glanceUntil = 0;
    this.idlePhase = random() * 10;
    this.idleTarget = { x: 0, y: 0 };
    this.nextIdleChange = 0;
    this.mouth = 0;
  }

  setEmotion(emotion) {
    const base = DEFAULT_EMOTION_PARAMS[emotion] ? emotion : "neutral";
    this.emotion = base;
    const custom = this.emotionMap?.[emotion]?.params || {};
    this.targets = { ...DEFAULT_EMOTION_PARAMS[base], ...custom };
  }

  // Before a reply starts: look away briefly (as a person does when they start to answer).
  glance(nowS, durationS = 0.4) {
    this.glanceUntil = nowS + durationS;
    this.glanceDir = this.random() < 0.5 ? -1 : 1;
  }

  speak(nowS, visemes, durationS) {
    this.clip = { start: nowS, visemes, duration: durationS };
  }

  silence() {
    this.clip = null;
  }

  get speaking() {
    return this.clip !== null;
  }

  // Advance to `nowS` (seconds); returns {param: value} for every controlled parameter.
  update(nowS, dtS) {
    if (this.clip && nowS - this.clip.start > this.clip.duration + 0.1) this.clip = null;
    const mouthTarget = this.clip ? mouthAt(this.clip.visemes, nowS - this.clip.start) : 0;
    this.mouth = lerpTowards(this.mouth, mouthTarget, dtS, this.lerpS.MouthOpen ?? 0.06);

    if (nowS >= this.nextIdleChange) {
      // Idle: drift to a new small random head/eye offset every 1.5-4 s.
      this.idleTarget = { x: (this.random() - 0.5) * 8, y: (this.random() - 0.5) * 5 };
      this.nextIdleChange = nowS + 1.5 + this.random() * 2.5;
    }
    const breathing = Math.sin((nowS + this.idlePhase) * 2 * Math.PI * 0.25);
    const targets = {
      ...this.targets,
      FaceAngleX: (this.targets.FaceAngleX || 0) + this.idleTarget.x * (this.speaking ? 0.4 : 1),
      FaceAngleY: (this.targets.FaceAngleY || 0) + this.idleTarget.y,
      EyeX: nowS < this.glanceUntil ? 0.8 * this.glanceDir : 0,
      Breath: 0.5 + 0.5 * breathing,
    };
    for (const [id, target] of Object.entries(targets)) {
      const current = id in this.values ? this.values[id] : target;
      this.values[id] = lerpTowards(current, target, dtS, this.lerpS[id] ?? this.lerpS.default ?? 0.3);
    }
    this.values.MouthOpen = this.mouth;
    return { ...this.values };
  }
}
