// Small statistics helpers for the stats panel and the measurement hooks.

export function percentile(values, p) {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

/** Events per second over a sliding window. */
export class RateMeter {
  constructor(windowMs = 2000) {
    this.windowMs = windowMs;
    this.times = [];
  }

  mark(t = performance.now()) {
    this.times.push(t);
    const cut = t - this.windowMs * 2;
    while (this.times.length && this.times[0] < cut) this.times.shift();
  }

  rate(now = performance.now()) {
    const recent = this.times.filter((t) => now - t <= this.windowMs);
    if (recent.length < 2) return 0;
    const span = Math.max(now - recent[0], recent[recent.length - 1] - recent[0]);
    return span > 0 ? ((recent.length - 1) * 1000) / span : 0;
  }
}

/** A bounded list of samples (latency, roll, ...). */
export class SampleBuffer {
  constructor(max = 2000) {
    this.max = max;
    this.values = [];
  }

  push(v) {
    this.values.push(v);
    if (this.values.length > this.max) this.values.splice(0, this.values.length - this.max);
  }

  recent(n) {
    return this.values.slice(-n);
  }

  clear() {
    this.values.length = 0;
  }
}
