// Neutral-face calibration: the person looks at the screen with a relaxed face for about a
// second; the average head rotation becomes "straight ahead" and the average blendshape scores
// become "rest" (a face that always looks slightly smiling or frowning to the model then reads
// as neutral). Stored per browser in localStorage, since it belongs to this camera and seat.
import { BLENDSHAPE_COUNT } from "../call/frame_codec.js";

const STORAGE_KEY = "af.calibration.v1";

export class Calibration {
  constructor() {
    this.rotation = new Float32Array(3);
    this.rest = new Float32Array(BLENDSHAPE_COUNT);
    this.active = false;
    this._collect = null;
    this.load();
  }

  load() {
    try {
      const raw = JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
      if (raw && raw.rotation && raw.rotation.length === 3 && raw.rest && raw.rest.length === BLENDSHAPE_COUNT) {
        this.rotation.set(raw.rotation);
        this.rest.set(raw.rest);
        this.active = true;
      }
    } catch {
      this.active = false;
    }
  }

  /** Start collecting; resolves with true when `durationMs` of face frames were averaged. */
  begin(durationMs = 1200) {
    return new Promise((resolve) => {
      this._collect = { n: 0, rot: new Float64Array(3), bs: new Float64Array(BLENDSHAPE_COUNT), until: null, durationMs, resolve };
      setTimeout(() => {
        if (this._collect && this._collect.n === 0) {
          this._collect = null;
          resolve(false);
        }
      }, durationMs + 3000);
    });
  }

  get collecting() {
    return this._collect !== null;
  }

  /** Feed raw (unfiltered, uncalibrated) values while collecting. */
  observe(rotation, blendshapes, tMs) {
    const c = this._collect;
    if (!c) return;
    if (c.until === null) c.until = tMs + c.durationMs;
    c.n++;
    for (let i = 0; i < 3; i++) c.rot[i] += rotation[i];
    for (let i = 0; i < BLENDSHAPE_COUNT; i++) c.bs[i] += blendshapes[i];
    if (tMs >= c.until && c.n >= 5) {
      for (let i = 0; i < 3; i++) this.rotation[i] = c.rot[i] / c.n;
      for (let i = 0; i < BLENDSHAPE_COUNT; i++) this.rest[i] = c.bs[i] / c.n;
      this.rest[0] = 0; // _neutral is a score of "how neutral", not an offset
      this.active = true;
      try {
        localStorage.setItem(STORAGE_KEY, JSON.stringify({ rotation: [...this.rotation], rest: [...this.rest] }));
      } catch {
        /* private mode: calibration lasts for this page only */
      }
      this._collect = null;
      c.resolve(true);
    }
  }

  reset() {
    this.rotation.fill(0);
    this.rest.fill(0);
    this.active = false;
    try {
      localStorage.removeItem(STORAGE_KEY);
    } catch {
      /* ignore */
    }
  }

  /** Apply in place: rotation relative to neutral, scores rescaled so rest -> 0 and 1 stays 1. */
  apply(rotation, blendshapes) {
    if (!this.active) return;
    for (let i = 0; i < 3; i++) rotation[i] -= this.rotation[i];
    for (let i = 1; i < BLENDSHAPE_COUNT; i++) {
      const r = Math.min(this.rest[i], 0.9);
      if (r > 0.01) blendshapes[i] = Math.max(0, (blendshapes[i] - r) / (1 - r));
    }
  }
}
