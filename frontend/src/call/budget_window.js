// The measurements the quality controller (quality.js) judges, over a sliding window of the last
// couple of seconds: built from the page's cumulative counters (tracker results and detect time,
// draws and draw time per avatar view) and the capture-to-render latency samples. Pure: the
// caller passes the time. Restarted after a quality change so old samples don't judge the new level.
import { percentile } from "./stats.js";

const MIN_SPAN_MS = 1000; // rates over less than this are not trusted
const MIN_LATENCY_SAMPLES = 10;

export class BudgetWindow {
  constructor(windowMs = 2000) {
    this.windowMs = windowMs;
    this.snaps = []; // [{t, c: {name: cumulative value}}]
    this.latency = []; // [t, ms]
  }

  /**
   * counters: {trackingResults, trackingProcMs, views: [{draws, drawMs}]} (cumulative);
   * latency: the capture-to-render samples that arrived since the last push.
   */
  push(t, counters, latency = []) {
    this.snaps.push({ t, c: counters });
    for (const v of latency) this.latency.push([t, v]);
    const cut = t - this.windowMs;
    // Keep one snapshot at or before the cut: the window's start.
    while (this.snaps.length > 2 && this.snaps[1].t <= cut) this.snaps.shift();
    while (this.latency.length && this.latency[0][0] <= cut) this.latency.shift();
  }

  reset() {
    const last = this.snaps[this.snaps.length - 1];
    this.snaps = last ? [last] : [];
    this.latency = [];
  }

  /** {t, tracking, trackingFps, procMs, latencyP95, renderMs} for the controller; null: not measured. */
  measure(tracking) {
    const n = this.snaps.length;
    const last = n ? this.snaps[n - 1] : null;
    const out = { t: last ? last.t : 0, tracking, trackingFps: null, procMs: null, latencyP95: null, renderMs: null };
    if (n < 2) return out;
    const first = this.snaps[0];
    const span = last.t - first.t;
    if (span < MIN_SPAN_MS) return out;
    const results = last.c.trackingResults - first.c.trackingResults;
    out.trackingFps = (results * 1000) / span;
    out.procMs = results > 0 ? (last.c.trackingProcMs - first.c.trackingProcMs) / results : null;
    if (tracking && results === 0) out.procMs = 0; // tracking on but nothing came: the tracker isn't the cost
    if (this.latency.length >= MIN_LATENCY_SAMPLES) out.latencyP95 = percentile(this.latency.map((x) => x[1]), 95);
    // The slowest avatar view's mean draw time (views that drew in the window).
    let worst = null;
    last.c.views.forEach((v, i) => {
      const before = first.c.views[i];
      if (!before) return;
      const draws = v.draws - before.draws;
      if (draws <= 0) return;
      const ms = (v.drawMs - before.drawMs) / draws;
      if (worst === null || ms > worst) worst = ms;
    });
    out.renderMs = worst;
    return out;
  }
}
