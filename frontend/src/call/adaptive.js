// Adaptive quality at run time: twice a second, the page's own counters (tracker results and
// detect time, draws and draw time of both avatar views, capture-to-render latency samples) go
// through a BudgetWindow into the QualityController, and the level it picks is applied to the
// tracker (input size, rate) and the views (render scale, effects). The rules live in quality.js.
import { BudgetWindow } from "./budget_window.js";
import { BUDGET_STORAGE_KEY, QUALITY_LEVELS, QualityController, parseBudget } from "./quality.js";

const TICK_MS = 500;

function storedBudget(storage) {
  try {
    return parseBudget(storage ? storage.getItem(BUDGET_STORAGE_KEY) : null);
  } catch {
    return parseBudget(null); // storage blocked (privacy settings): the default budget
  }
}

export class AdaptiveQuality {
  /**
   * @param {{media: LocalMedia, views: () => AvatarView[], stats: object, storage?: Storage,
   *          now?: () => number, onChange?: (level:number) => void}} opts
   *   stats: the call's counters (trackingResults, trackingProcMs, latency SampleBuffer).
   */
  constructor({ media, views, stats, storage = globalThis.localStorage, now = () => performance.now(), onChange = () => {} }) {
    this.media = media;
    this.views = views;
    this.stats = stats;
    this.now = now;
    this.onChange = onChange;
    this.controller = new QualityController({ budget: storedBudget(storage) });
    this.window = new BudgetWindow();
    this.latencySeen = stats.latency.total;
    this.last = null; // the last measurement judged
    this.timer = null;
  }

  get level() {
    return this.controller.level;
  }

  get settings() {
    return this.controller.settings;
  }

  start() {
    this.apply();
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }

  tick() {
    const s = this.stats;
    const t = this.now();
    const latency = s.latency.since(this.latencySeen);
    this.latencySeen = s.latency.total;
    const views = this.views().map((v) => (v ? { draws: v.count, drawMs: v.drawMs } : { draws: 0, drawMs: 0 }));
    this.window.push(t, { trackingResults: s.trackingResults, trackingProcMs: s.trackingProcMs, views }, latency);
    // Tracking counts as on while the camera is meant to be on, also while the model still loads
    // (the controller passes over tracking-only levels when it is off).
    this.last = this.window.measure(Boolean(this.media.tracker || this.media.cameraOn));
    // The actor tracks body or hands (running now, or turned off by a step of ours).
    this.last.body = Boolean(this.media.bodyWanted && this.media.bodyWanted());
    this.last.cameraFps = this.media.cameraFps ? this.media.cameraFps() : null;
    // Any step: the level, or the body trackers' rate alone (which leaves the level as it was).
    const before = this.controller.changes;
    this.controller.update(this.last);
    if (this.controller.changes !== before) {
      this.window.reset();
      this.apply();
      this.onChange(this.controller.level);
    }
  }

  /** Put the current level's settings into the tracker and the views. */
  apply() {
    const { bodyFps, ...q } = this.controller.settings;
    this.media.setTrackingQuality(q).catch(() => {});
    // Body and hand trackers: lowered first, then off (quality.js BODY_RATES).
    if (this.media.setBodyRate) this.media.setBodyRate(bodyFps);
    for (const v of this.views()) {
      if (!v) continue;
      v.setRenderScale(q.renderScale);
      v.setEffects(q.effects);
    }
  }

  /** Plain numbers for window.__afStats. */
  snapshot() {
    const c = this.controller;
    return {
      level: c.level, key: c.settings.key, bodyFps: c.settings.bodyFps, levels: QUALITY_LEVELS.length, floor: c.floor, changes: c.changes, reason: c.reason,
      budget: { ...c.budget }, settings: { ...c.settings }, measured: this.last ? { ...this.last } : null,
      history: c.history.map((h) => ({ ...h })),
    };
  }
}
