// One Euro filter (Casiez, Roussel, Vogel, CHI 2012): a low-pass filter whose cutoff rises with
// speed, so a still face doesn't jitter and a quick turn isn't delayed. Cheap enough to run on
// all 58 channels at 30 Hz.

function alpha(cutoff, dt) {
  const tau = 1 / (2 * Math.PI * cutoff);
  return 1 / (1 + tau / dt);
}

export class OneEuroFilter {
  /**
   * @param {number} minCutoff Hz; lower = smoother at rest
   * @param {number} beta speed coefficient; higher = less lag when moving
   * @param {number} dCutoff Hz for the derivative
   */
  constructor(minCutoff = 1.0, beta = 0.0, dCutoff = 1.0) {
    this.minCutoff = minCutoff;
    this.beta = beta;
    this.dCutoff = dCutoff;
    this.reset();
  }

  reset() {
    this.x = null;
    this.dx = 0;
    this.t = null;
  }

  /** @param {number} value @param {number} tMs timestamp in ms */
  filter(value, tMs) {
    if (this.x === null || this.t === null) {
      this.x = value;
      this.t = tMs;
      return value;
    }
    const dt = Math.max(1e-3, (tMs - this.t) / 1000);
    this.t = tMs;
    const dx = (value - this.x) / dt;
    this.dx += alpha(this.dCutoff, dt) * (dx - this.dx);
    const cutoff = this.minCutoff + this.beta * Math.abs(this.dx);
    this.x += alpha(cutoff, dt) * (value - this.x);
    return this.x;
  }
}

/** A bank of filters over a Float32Array. */
export class OneEuroBank {
  constructor(size, minCutoff, beta, dCutoff = 1.0) {
    this.filters = Array.from({ length: size }, () => new OneEuroFilter(minCutoff, beta, dCutoff));
  }

  apply(values, tMs) {
    for (let i = 0; i < values.length; i++) values[i] = this.filters[i].filter(values[i], tMs);
    return values;
  }

  reset() {
    for (const f of this.filters) f.reset();
  }
}
