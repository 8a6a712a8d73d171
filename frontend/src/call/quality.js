// Adaptive quality of the call page: a ladder of levels and the controller that picks one from the
// page's own frame budget. Pure logic (no DOM, no clock of its own): adaptive.js feeds it
// measurements and applies the level it returns.
//
// The ladder lowers, in this order, what costs the most CPU for the least visible loss: the
// tracker's input size (the camera image is scaled before MediaPipe converts it), the tracking
// rate, the render resolution of the avatars, and the render effects (MToon outlines, hair and
// cloth spring bones). Each level keeps the cuts of the levels before it.
//
// The input stops at 400x300: on the test camera (a head filling about a third of the frame)
// FaceLandmarker found the face in every frame at 640x480, 480x360 and 400x300, but in 35 % of
// them at 360x270 and 10-15 % at 320x240 (its face detector needs the face big enough), while
// detection time went 48 -> 41 -> ~31 ms from 640 to 320 wide on a loaded 2-core machine.
//
// Budget (defaults below): tracking >= 30 results/s, capture-to-render p95 < 120 ms (the seed's
// promised latency), one avatar draw < 16 ms of the page's main thread (half a frame at 30 fps:
// the rest of the frame belongs to tracking and the call). A measurement is "over" when tracking
// falls short while the tracker is busy (a slow camera is not the tracker's fault), or latency or
// draw time pass their budget. It has "room" when all of them are well inside (60 % of the
// budget, the tracker busy less than 70 % at the full tracking rate).
//
// A smaller input pays only where the image's size is what costs: FaceLandmarker runs its models
// at fixed sizes, so where inference dominates (on one 2-core machine a 640x480 frame took 19 ms
// and a 340x340 crop of it 20) it buys nothing and costs precision. So the first input step taken
// for tracking or latency is a trial: when the next measurement's detect time is not at least
// 10 % shorter, the controller goes back to the level before it, keeps the full input on every
// level below, and passes over the input-only levels from then on ("input_no_gain" in history).
//
// Hysteresis: a level steps down after 2 s over budget and up after 6 s with room; after any
// change nothing is judged for 2.5 s (the measuring windows refill). A step up that falls back
// within 20 s doubles the wait before the next step up (up to 60 s), so a level that doesn't fit
// is not retried every few seconds. With tracking off (a receiver without camera), the levels
// that only change tracking are passed over: a step goes straight to the next render change.

/** The levels, best first. inputWidth x inputHeight: the tracker's input; trackFps: its rate cap. */
export const QUALITY_LEVELS = Object.freeze([
  { key: "full", inputWidth: 640, inputHeight: 480, trackFps: 30, renderScale: 1, effects: true },
  { key: "input_480", inputWidth: 480, inputHeight: 360, trackFps: 30, renderScale: 1, effects: true },
  { key: "input_400", inputWidth: 400, inputHeight: 300, trackFps: 30, renderScale: 1, effects: true },
  { key: "rate_24", inputWidth: 400, inputHeight: 300, trackFps: 24, renderScale: 1, effects: true },
  { key: "render_75", inputWidth: 400, inputHeight: 300, trackFps: 24, renderScale: 0.75, effects: true },
  { key: "render_50", inputWidth: 400, inputHeight: 300, trackFps: 24, renderScale: 0.5, effects: true },
  { key: "effects_off", inputWidth: 400, inputHeight: 300, trackFps: 24, renderScale: 0.5, effects: false },
].map((l) => Object.freeze(l)));

/**
 * Body and hand tracking come before the ladder (issue 18): while the actor tracks them, a step
 * down first lowers their rate, then turns them off, and only then touches the face tracker or
 * the render; stepping up restores the ladder first and the body last. Index: bodyStep.
 */
export const BODY_RATES = Object.freeze([15, 8, 4, 0]);
// Body steps act faster down and slower up than the ladder: while the body trackers slow the face
// it shows at once (face results fall by half), and each try to bring them back costs the face
// a few seconds and makes the arms come and go, so it is made rarely.
export const BODY_DOWN_AFTER_MS = 1000;
export const BODY_SETTLE_MS = 1000;
export const BODY_UP_AFTER_MS = 20000;

export const DEFAULT_BUDGET = Object.freeze({ trackingFps: 30, latencyMs: 120, renderMs: 16 });

/**
 * Where tests and people debugging can set the budget: localStorage["af.call.qualityBudget"] as
 * JSON with any of DEFAULT_BUDGET's keys, e.g. {"renderMs": 0} (every draw is over budget, so
 * the level walks down to the floor). Read once when the call page starts.
 */
export const BUDGET_STORAGE_KEY = "af.call.qualityBudget";

const SHORT = 0.9; // tracking below 90 % of its target counts as short
const BUSY_OVER = 0.75; // ... when the tracker was detecting at least 75 % of the time
const BUSY_ROOM = 0.7; // room: the tracker would be busy less than this at the full rate
const ROOM = 0.6; // room: latency and draw time under 60 % of their budget
const INPUT_PAYS = 0.9; // an input step pays when detection takes at most 90 % of its time before

/** A budget from the stored text: known keys with finite numbers >= 0 override the defaults. */
export function parseBudget(text) {
  const budget = { ...DEFAULT_BUDGET };
  if (!text) return budget;
  let raw;
  try {
    raw = JSON.parse(text);
  } catch {
    return budget;
  }
  if (!raw || typeof raw !== "object") return budget;
  for (const key of Object.keys(DEFAULT_BUDGET)) {
    const v = raw[key];
    if (typeof v === "number" && Number.isFinite(v) && v >= 0) budget[key] = v;
  }
  return budget;
}

/**
 * Judge one measurement against the budget at a level.
 * m: {tracking: bool, trackingFps: number|null, procMs: number|null (mean detect time),
 *     latencyP95: number|null, renderMs: number|null (mean draw time), body?: bool (the actor
 *     tracks body or hands: BODY_RATES come first), cameraFps?: number|null (the camera's own
 *     rate)}; null: not measured. `level` may carry bodyFps (the body trackers' rate now).
 * Returns {over: "tracking"|"body"|"latency"|"render"|null, room: bool}. "body": the face is
 * short while the body trackers run, though its own tracker is not busy: they take its camera
 * frames or its CPU, and they are what gives way (not below a slower camera's own rate).
 */
export function judge(m, level, budget = DEFAULT_BUDGET) {
  const target = Math.min(budget.trackingFps, level.trackFps);
  const fps = m.trackingFps;
  const proc = m.procMs;
  const tracked = m.tracking && fps !== null && proc !== null;
  const busy = tracked ? (fps * proc) / 1000 : 0;
  let over = null;
  const bodyOn = Boolean(m.body && level.bodyFps > 0);
  const camera = m.cameraFps > 0 ? m.cameraFps : Infinity;
  if (tracked && fps < target * SHORT && busy >= BUSY_OVER) over = "tracking";
  else if (tracked && bodyOn && fps < Math.min(target, camera) * SHORT) over = "body";
  else if (m.latencyP95 !== null && m.latencyP95 >= budget.latencyMs) over = "latency";
  else if (m.renderMs !== null && m.renderMs >= budget.renderMs) over = "render";
  const trackingRoom = !m.tracking || (tracked && (proc * budget.trackingFps) / 1000 < BUSY_ROOM);
  const room = over === null && trackingRoom
    && (m.latencyP95 === null || m.latencyP95 < budget.latencyMs * ROOM)
    && (m.renderMs === null || m.renderMs < budget.renderMs * ROOM);
  return { over, room };
}

/** Two levels that draw the same way (they differ in tracking only). */
function sameRender(a, b) {
  return a.renderScale === b.renderScale && a.effects === b.effects;
}

/** Two levels that differ in the tracker's input size only. */
function inputOnly(a, b) {
  return sameRender(a, b) && a.trackFps === b.trackFps && (a.inputWidth !== b.inputWidth || a.inputHeight !== b.inputHeight);
}

/** Two levels that work the same way: the same render, and with tracking on the same tracking. */
function sameWork(a, b, tracking) {
  return sameRender(a, b) && (!tracking || (a.trackFps === b.trackFps && a.inputWidth === b.inputWidth && a.inputHeight === b.inputHeight));
}

export class QualityController {
  /**
   * @param {{budget?: object, floor?: number, start?: number, downAfterMs?: number, upAfterMs?: number,
   *          maxUpAfterMs?: number, settleMs?: number, bounceMs?: number}} [opts]
   *   floor: the lowest level it may reach (an index of QUALITY_LEVELS).
   */
  constructor({
    budget = DEFAULT_BUDGET, floor = QUALITY_LEVELS.length - 1, start = 0,
    downAfterMs = 2000, upAfterMs = 6000, maxUpAfterMs = 60000, settleMs = 2500, bounceMs = 20000,
    bodyDownAfterMs = BODY_DOWN_AFTER_MS, bodySettleMs = BODY_SETTLE_MS, bodyUpAfterMs = BODY_UP_AFTER_MS,
  } = {}) {
    this.budget = { ...DEFAULT_BUDGET, ...budget };
    this.floor = Math.max(0, Math.min(QUALITY_LEVELS.length - 1, floor));
    this.level = Math.max(0, Math.min(this.floor, start));
    this.downAfterMs = downAfterMs;
    this.baseUpAfterMs = upAfterMs;
    this.upAfterMs = upAfterMs;
    this.maxUpAfterMs = maxUpAfterMs;
    this.settleMs = settleMs;
    this.bounceMs = bounceMs;
    this.bodyDownAfterMs = bodyDownAfterMs;
    this.bodySettleMs = bodySettleMs;
    this.bodyUpAfterMs = bodyUpAfterMs;
    this.settleAfter = settleMs; // the settle time of the last step (a body step settles sooner)
    this.changedAt = null; // time of the last change
    this.lastUpAt = null; // time of the last step up, until it held for bounceMs or fell back
    this.overSince = null;
    this.roomSince = null;
    this.reason = null; // why the last step down happened
    this.changes = 0;
    this.history = []; // the last 32 changes: {t, level, why: "tracking"|"latency"|"render"|"room"|"input_no_gain"|"body"}
    this.bodyStep = 0; // index of BODY_RATES
    this.inputPays = null; // does a smaller tracker input shorten detection here? null: not tried yet
    this.inputTrial = null; // {level, procMs}: the input step being tried, and the level and detect time before it
  }

  /** The level's settings plus the body trackers' rate (bodyFps, 0 = off). */
  get settings() {
    return { ...this._levelSettings(this.level), bodyFps: BODY_RATES[this.bodyStep] };
  }

  /** QUALITY_LEVELS[i], at the full input once a smaller one was found to buy nothing. */
  _levelSettings(i) {
    const level = QUALITY_LEVELS[i];
    if (this.inputPays !== false) return level;
    const { inputWidth, inputHeight } = QUALITY_LEVELS[0];
    return { ...level, inputWidth, inputHeight };
  }

  /** Feed one measurement (m.t: ms on any steady clock); returns the level to use now. */
  update(m) {
    if (this.changedAt !== null && m.t - this.changedAt < this.settleAfter) return this.level;
    if (this.lastUpAt !== null && m.t - this.lastUpAt > this.bounceMs) {
      this.upAfterMs = this.baseUpAfterMs; // the last step up held: back to the normal pace
      this.lastUpAt = null;
    }
    if (this.inputTrial && m.tracking && m.procMs !== null) {
      const trial = this.inputTrial;
      this.inputTrial = null;
      this.inputPays = m.procMs <= trial.procMs * INPUT_PAYS;
      if (!this.inputPays) {
        this.lastUpAt = null; // not a step up for room: no bounce to judge
        this._step(trial.level, m.t, "input_no_gain");
        return this.level;
      }
    }
    const { over, room } = judge(m, this.settings, this.budget);
    if (over) {
      this.roomSince = null;
      if (this.overSince === null) this.overSince = m.t;
      const bodyFirst = Boolean(m.body && this.bodyStep < BODY_RATES.length - 1);
      const canLower = this.level < this.floor || bodyFirst;
      if (m.t - this.overSince >= (bodyFirst ? this.bodyDownAfterMs : this.downAfterMs) && canLower) {
        if (this.lastUpAt !== null) {
          // Down again within bounceMs of a step up: that level doesn't fit; wait longer next time.
          this.upAfterMs = Math.min(this.maxUpAfterMs, this.upAfterMs * 2);
          this.lastUpAt = null;
        }
        this.reason = over;
        if (bodyFirst) {
          this._stepBody(this.bodyStep + 1, m.t, over);
          return this.level;
        }
        const from = this.level;
        let next = from + 1;
        while (next < this.floor && sameWork(this._levelSettings(next), this._levelSettings(from), m.tracking)) next += 1;
        this._step(next, m.t, over);
        const trial = this.inputPays === null && m.tracking && m.procMs !== null && (over === "tracking" || over === "latency");
        if (trial && inputOnly(QUALITY_LEVELS[from], QUALITY_LEVELS[next])) this.inputTrial = { level: from, procMs: m.procMs };
      }
    } else if (room) {
      this.overSince = null;
      if (this.roomSince === null) this.roomSince = m.t;
      const bodyUpAfter = Math.max(this.upAfterMs, this.bodyUpAfterMs);
      if (m.t - this.roomSince >= bodyUpAfter && this.level === 0 && this.bodyStep > 0) {
        this.lastUpAt = m.t;
        this._stepBody(this.bodyStep - 1, m.t, "room");
      } else if (m.t - this.roomSince >= this.upAfterMs && this.level > 0) {
        this.lastUpAt = m.t;
        let next = this.level - 1;
        while (next > 0 && sameWork(this._levelSettings(next - 1), this._levelSettings(next), m.tracking)) next -= 1;
        this._step(next, m.t, "room");
      }
    } else {
      this.overSince = null;
      this.roomSince = null;
    }
    return this.level;
  }

  _stepBody(step, t, why) {
    this.bodyStep = step;
    this._step(this.level, t, why);
    this.settleAfter = this.bodySettleMs;
  }

  _step(level, t, why) {
    this.level = level;
    this.settleAfter = this.settleMs;
    this.history.push({ t, level, why, bodyFps: BODY_RATES[this.bodyStep] });
    if (this.history.length > 32) this.history.shift();
    this.changedAt = t;
    this.overSince = null;
    this.roomSince = null;
    this.changes += 1;
  }
}
