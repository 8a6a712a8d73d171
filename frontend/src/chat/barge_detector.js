// Instant barge-in in the browser (docs/voice-protocol.md, section 5): the page runs Silero VAD
// (@ricky0123/vad-web) on its own microphone and tells the voice worker `barge_in` as soon as the
// user talks over the character, instead of waiting for the worker's 256 ms rule.
//
// A 32 ms VAD frame counts when Silero says speech AND the mic is at least ECHO_RATIO times as
// loud as the character's voice playing now: echo cancellation leaves what leaks back from the
// speakers well under a tenth of the output level, a person talking into the mic is about half of
// it (the worker's own guard uses the same ratio). SPEECH_FRAMES counted frames within the last
// WINDOW_FRAMES fire once per reply; a lone frame of noise or echo never does.
export const SPEECH_THRESHOLD = 0.5;
// 2 of 3 frames: ~64 ms of confident speech within ~96 ms (vad-web's own speech start takes a
// single frame at 0.3). On Piper and espeak-ng speech it fires 96 ms after the first voiced
// sample, where 3 of 4 took 128 ms; a lone frame of noise or a click never fires.
export const SPEECH_FRAMES = 2;
export const WINDOW_FRAMES = 3;
export const ECHO_RATIO = 0.25;

export function frameLevel(frame) {
  let sum = 0;
  for (const v of frame) sum += v * v;
  return frame.length ? Math.sqrt(sum / frame.length) : 0;
}

export class BargeDetector {
  constructor() {
    this.recent = [];
    this.fired = false;
  }

  /** A new reply started or ended: the next interruption may fire again. */
  reset() {
    this.recent = [];
    this.fired = false;
  }

  /**
   * One VAD frame. `speaking`: the character's voice is playing; `outputLevel`: its loudness as
   * played (RMS, the loudest of the last ~100 ms). True exactly once when the user barges in.
   */
  push({ probability, micLevel, outputLevel, speaking }) {
    if (!speaking) {
      this.reset();
      return false;
    }
    const counts = probability >= SPEECH_THRESHOLD && micLevel >= ECHO_RATIO * outputLevel;
    this.recent.push(counts);
    if (this.recent.length > WINDOW_FRAMES) this.recent.shift();
    if (this.fired || this.recent.filter(Boolean).length < SPEECH_FRAMES) return false;
    this.fired = true;
    return true;
  }
}

/** The loudest of the levels noted over the last `windowMs` (the echo guard's reference: the
 * character's voice as played, noted every animation frame or VAD frame). */
export class RecentLevel {
  constructor(windowMs = 100) {
    this.windowMs = windowMs;
    this.levels = []; // [time, level]
  }

  note(level, now = performance.now()) {
    this.levels.push([now, level]);
    while (this.levels.length && now - this.levels[0][0] > this.windowMs) this.levels.shift();
  }

  loudest(now = performance.now()) {
    let loudest = 0;
    for (const [at, level] of this.levels) if (now - at <= this.windowMs) loudest = Math.max(loudest, level);
    return loudest;
  }

  clear() {
    this.levels = [];
  }
}
