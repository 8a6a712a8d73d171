// call/quality.js and call/budget_window.js: the adaptive quality ladder and its controller.
// A page over budget steps down in the ladder's order (input size, rate, render scale, effects),
// never below the floor; with room it steps back up only after a longer wait, and a step up that
// doesn't hold makes the next one wait longer (no flapping).
import { test } from "node:test";
import assert from "node:assert/strict";
import { BudgetWindow } from "../src/call/budget_window.js";
import { DEFAULT_BUDGET, QUALITY_LEVELS, QualityController, judge, parseBudget } from "../src/call/quality.js";

// A machine that can't keep up: 21 tracking results/s, each detect 45 ms (busy 95 %) at 640x480,
// less on a smaller input (half its detection time goes with the image's size: input steps pay).
const SLOW = (s) => ({ tracking: true, trackingFps: 21, procMs: 45 * (0.5 + (0.5 * s.inputWidth) / 640), latencyP95: 180, renderMs: 9 });
// The same machine where detection takes 45 ms whatever the input's size (inference dominates).
const SLOW_FIXED = { tracking: true, trackingFps: 20, procMs: 45, latencyP95: 180, renderMs: 9 };
// Plenty of room: tracking at the camera's 30 fps, 8 ms a detect, 40 ms latency, 3 ms draws.
const FAST = { tracking: true, trackingFps: 30, procMs: 8, latencyP95: 40, renderMs: 3 };
// Within budget but without room: neither steps.
const FAIR = { tracking: true, trackingFps: 30, procMs: 20, latencyP95: 90, renderMs: 6 };

/** A measurement: `m` itself, or what the machine `m(settings)` measures at the controller's settings. */
const at = (m, c) => (typeof m === "function" ? m(c.settings) : m);

/** Feed `m` every 500 ms for `ms`, starting at `t0`; returns [end time, levels after each tick]. */
function run(c, m, t0, ms) {
  const levels = [];
  let t = t0;
  for (; t < t0 + ms; t += 500) levels.push(c.update({ ...at(m, c), t }));
  return [t, levels];
}

const changes = (levels) => levels.filter((l, i) => i === 0 || l !== levels[i - 1]);

test("the ladder lowers input size, then rate, then resolution, then effects, each keeping the cuts before it", () => {
  assert.deepEqual(QUALITY_LEVELS.map((l) => l.key), ["full", "input_480", "input_400", "rate_24", "render_75", "render_50", "effects_off"]);
  const first = (pred) => QUALITY_LEVELS.findIndex(pred);
  const input = first((l) => l.inputWidth < 640);
  const rate = first((l) => l.trackFps < 30);
  const render = first((l) => l.renderScale < 1);
  const effects = first((l) => !l.effects);
  assert.ok(input > 0 && input < rate && rate < render && render < effects, [input, rate, render, effects].join());
  for (let i = 1; i < QUALITY_LEVELS.length; i++) {
    const [a, b] = [QUALITY_LEVELS[i - 1], QUALITY_LEVELS[i]];
    assert.ok(b.inputWidth <= a.inputWidth && b.trackFps <= a.trackFps && b.renderScale <= a.renderScale);
    assert.ok(!(a.effects === false && b.effects === true), "effects never come back lower down");
    assert.equal(b.inputWidth * 3, b.inputHeight * 4, "the camera's 4:3 shape");
  }
});

test("a slow budget steps down one level at a time, in order, and stops at the floor", () => {
  const c = new QualityController();
  const [, levels] = run(c, SLOW, 0, 60_000);
  assert.deepEqual(changes(levels), [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(c.level, QUALITY_LEVELS.length - 1);
  assert.equal(c.settings.key, "effects_off");
  // Each step waited for 2 s over budget after the 2.5 s settling time of the step before.
  const firstAt = levels.indexOf(1) * 500;
  const secondAt = levels.indexOf(2) * 500;
  assert.equal(firstAt, 2000);
  assert.ok(secondAt - firstAt >= 4500, `${secondAt - firstAt}`);
});

test("never below the floor, whatever it is", () => {
  const c = new QualityController({ floor: 2 });
  const [, levels] = run(c, SLOW, 0, 120_000);
  assert.equal(Math.max(...levels), 2);
  assert.equal(c.level, 2);
  // A floor past the ladder's end is the ladder's end.
  const d = new QualityController({ floor: 99 });
  run(d, SLOW, 0, 120_000);
  assert.equal(d.level, QUALITY_LEVELS.length - 1);
});

test("a short spike does not step down", () => {
  const c = new QualityController();
  let [t] = run(c, SLOW, 0, 1500); // 1.5 s over budget: not yet 2 s
  [t] = run(c, FAIR, t, 1000);
  run(c, SLOW, t, 1500);
  assert.equal(c.level, 0);
});

test("with room it steps back up, slower than it stepped down", () => {
  const c = new QualityController();
  let [t] = run(c, SLOW, 0, 60_000);
  assert.equal(c.level, 6);
  const [, levels] = run(c, FAST, t, 120_000);
  assert.deepEqual(changes(levels), [6, 5, 4, 3, 2, 1, 0]);
  // The first step up waited the settling time (from the last step down) plus 6 s of room.
  assert.ok(levels.indexOf(5) * 500 >= 6000);
  const upGap = (levels.indexOf(4) - levels.indexOf(5)) * 500;
  assert.ok(upGap >= 8500, `${upGap}`); // settle 2.5 s + 6 s of room
  t += 120_000;
  // Fair measurements (within budget, no room) hold the level wherever it is.
  const d = new QualityController({ start: 3 });
  const [, held] = run(d, FAIR, t, 60_000);
  assert.deepEqual(changes(held), [3]);
});

test("hysteresis: a level that doesn't hold is retried less and less often", () => {
  // The machine fits level 2 but not level 1: at level 1 it goes over budget, at 2 it has room.
  const c = new QualityController({ start: 2 });
  const machine = (level) => (level <= 1 ? SLOW : FAST);
  const ups = [];
  let t = 0;
  for (; t < 300_000; t += 500) {
    const before = c.level;
    const after = c.update({ ...at(machine(before), c), t });
    if (after < before) ups.push(t);
  }
  assert.ok(ups.length >= 3, `${ups.length} retries`);
  const gaps = ups.slice(1).map((u, i) => u - ups[i]);
  for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i] > gaps[i - 1] || gaps[i] >= 60_000, gaps.join());
  // Far fewer retries than a controller without backoff (one every ~13 s: 23 in 300 s).
  assert.ok(ups.length <= 8, `${ups.length} retries: ${gaps.join()}`);
  assert.ok(c.level >= 1 && c.level <= 2);
});

test("judge: a short tracking rate is the tracker's fault only when the tracker is busy", () => {
  const full = QUALITY_LEVELS[0];
  // A dim camera giving 15 fps while detection takes 10 ms: not over budget, and room.
  assert.deepEqual(judge({ tracking: true, trackingFps: 15, procMs: 10, latencyP95: null, renderMs: null }, full), { over: null, room: true });
  assert.equal(judge({ ...SLOW_FIXED, latencyP95: null, renderMs: null }, full).over, "tracking");
  // At the 24 fps level, 22 fps is within 90 % of its own cap.
  const rate24 = QUALITY_LEVELS[3];
  assert.equal(judge({ tracking: true, trackingFps: 22, procMs: 40, latencyP95: null, renderMs: null }, rate24).over, null);
  assert.equal(judge({ tracking: true, trackingFps: 22, procMs: 40, latencyP95: null, renderMs: null }, full).over, "tracking");
  // Latency and draw time over their budgets.
  assert.equal(judge({ ...FAST, latencyP95: 130 }, full).over, "latency");
  assert.equal(judge({ ...FAST, renderMs: 20 }, full).over, "render");
  // Tracking off: only latency and drawing count.
  assert.deepEqual(judge({ tracking: false, trackingFps: 0, procMs: null, latencyP95: 30, renderMs: 2 }, full), { over: null, room: true });
  // Nothing measured yet: no verdict either way for the tracker.
  assert.deepEqual(judge({ tracking: true, trackingFps: null, procMs: null, latencyP95: null, renderMs: null }, full), { over: null, room: false });
});

test("parseBudget: stored overrides for known keys only, anything else is the default", () => {
  assert.deepEqual(parseBudget(null), DEFAULT_BUDGET);
  assert.deepEqual(parseBudget("not json"), DEFAULT_BUDGET);
  assert.deepEqual(parseBudget('"slow"'), DEFAULT_BUDGET);
  assert.deepEqual(parseBudget('{"renderMs": 0, "latencyMs": -5, "trackingFps": "x", "other": 1}'), { ...DEFAULT_BUDGET, renderMs: 0 });
  // A zero draw budget: every measured draw is over it, so the level walks down.
  const c = new QualityController({ budget: parseBudget('{"renderMs": 0}') });
  run(c, { ...FAST, renderMs: 0.2 }, 0, 60_000);
  assert.equal(c.level, QUALITY_LEVELS.length - 1);
  assert.equal(c.reason, "render");
});

test("BudgetWindow: rates and means over the last two seconds of cumulative counters", () => {
  const w = new BudgetWindow(2000);
  const snap = (results, procMs, draws, drawMs) => ({ trackingResults: results, trackingProcMs: procMs, views: [{ draws, drawMs }, { draws: 0, drawMs: 0 }] });
  w.push(0, snap(0, 0, 0, 0));
  assert.equal(w.measure(true).trackingFps, null, "one snapshot is no rate");
  // 25 results/s at 30 ms each, 20 draws/s at 5 ms each, for 4 s; then a slow second.
  for (let t = 500; t <= 4000; t += 500) w.push(t, snap(t / 40, (t / 40) * 30, t / 50, (t / 50) * 5), [50, 55, 60]);
  let m = w.measure(true);
  assert.equal(m.t, 4000);
  assert.equal(Math.round(m.trackingFps), 25);
  assert.equal(Math.round(m.procMs), 30);
  assert.equal(m.renderMs, 5);
  assert.equal(m.latencyP95, 60);
  w.push(4500, snap(100 + 5, 3000 + 5 * 100, 80 + 5, 400 + 5 * 40), [400, 400, 400, 400]);
  w.push(5000, snap(110, 3000 + 10 * 100, 90, 400 + 10 * 40));
  m = w.measure(true);
  assert.ok(m.procMs > 30 && m.renderMs > 5, JSON.stringify(m)); // the window moved on
  assert.equal(m.latencyP95, 400);
  // After a quality change the window starts over: no verdict until it refills.
  w.reset();
  m = w.measure(true);
  assert.equal(m.trackingFps, null);
  assert.equal(m.latencyP95, null);
});

test("the controller keeps a short history of its changes and why", () => {
  const c = new QualityController();
  let [t] = run(c, SLOW, 0, 12_000);
  run(c, FAST, t, 30_000);
  const h = c.history;
  assert.deepEqual(h.slice(0, 2).map((x) => [x.level, x.why]), [[1, "tracking"], [2, "tracking"]]);
  assert.equal(h[h.length - 1].why, "room");
  assert.ok(h.every((x, i) => i === 0 || x.t > h[i - 1].t));
});

test("with tracking off, steps pass over the levels that only change tracking", () => {
  // A receiver without camera whose draws and latency are over budget.
  const c = new QualityController();
  const [t, levels] = run(c, { tracking: false, trackingFps: 0, procMs: null, latencyP95: 300, renderMs: 3 }, 0, 60_000);
  const first = QUALITY_LEVELS.findIndex((l) => l.renderScale < 1);
  assert.deepEqual(changes(levels), [0, first, first + 1, QUALITY_LEVELS.length - 1]);
  // And back up: from the first render change straight to full quality.
  const [, up] = run(c, { tracking: false, trackingFps: 0, procMs: null, latencyP95: 30, renderMs: 1 }, t, 120_000);
  assert.deepEqual(changes(up), [QUALITY_LEVELS.length - 1, first + 1, first, 0]);
  // With tracking on, every level is a step (the first test).
});

test("an input step that does not shorten detection is undone, and input-only levels are passed over", () => {
  const c = new QualityController();
  let [t, levels] = run(c, SLOW_FIXED, 0, 60_000);
  const rate = QUALITY_LEVELS.findIndex((l) => l.trackFps < 30);
  // Tried input_480 (detection no shorter), back to full, then straight to the rate step and on.
  assert.deepEqual(changes(levels), [0, 1, 0, rate, rate + 1, rate + 2, rate + 3]);
  assert.deepEqual(c.history.slice(0, 3).map((h) => [h.level, h.why]), [[1, "tracking"], [0, "input_no_gain"], [rate, "tracking"]]);
  assert.equal(c.inputPays, false);
  // Every level below keeps the camera's full input; the rest of each level is as the ladder says.
  assert.equal(c.settings.key, "effects_off");
  assert.deepEqual([c.settings.inputWidth, c.settings.inputHeight], [640, 480]);
  assert.equal(c.settings.trackFps, QUALITY_LEVELS[rate].trackFps);
  // Back up with room: from the rate step straight to full, past the input-only levels.
  [, levels] = run(c, FAST, t, 120_000);
  assert.deepEqual(changes(levels), [rate + 3, rate + 2, rate + 1, rate, 0]);
});

test("an input step that shortens detection is kept, and the ladder goes on in order", () => {
  const c = new QualityController();
  run(c, SLOW, 0, 15_000);
  assert.equal(c.inputPays, true);
  assert.deepEqual(c.history.map((h) => h.why), ["tracking", "tracking", "tracking"]);
  assert.deepEqual(c.history.map((h) => h.level), [1, 2, 3]);
  assert.equal(c.settings.inputWidth, QUALITY_LEVELS[3].inputWidth);
});

test("input steps taken for the render are not tried: detection time is not what was over", () => {
  const c = new QualityController();
  run(c, { ...SLOW_FIXED, trackingFps: 30, procMs: 20, latencyP95: 40, renderMs: 30 }, 0, 60_000);
  assert.equal(c.inputPays, null);
  assert.deepEqual(c.history.map((h) => h.level), [1, 2, 3, 4, 5, 6]);
});

test("body and hands go first: their rate, then off, before the face tracker or the render", async () => {
  const { QualityController: QC, BODY_RATES } = await import("../src/call/quality.js");
  const c = new QC({ downAfterMs: 1000, upAfterMs: 1000, settleMs: 0, bodySettleMs: 0, bodyUpAfterMs: 1000 });
  const slow = (t) => ({ t, tracking: true, body: true, trackingFps: 20, procMs: 45, latencyP95: 50, renderMs: 5 });
  let t = 0;
  const seen = [];
  for (let i = 0; i < 20; i++) {
    c.update(slow((t += 600)));
    seen.push([c.level, c.settings.bodyFps]);
  }
  const firstLevelStep = seen.findIndex(([level]) => level > 0);
  assert.deepEqual(BODY_RATES, [15, 8, 4, 0]);
  assert.ok(firstLevelStep > 0, "the ladder stepped");
  assert.deepEqual(seen[firstLevelStep - 1], [0, 0], "the body was off before the first ladder step");
  assert.ok(seen.some(([l, b]) => l === 0 && b === 8), "its rate was lowered before it went off");
  assert.ok(seen.some(([l, b]) => l === 0 && b === 4), "... twice");
  // With room again: the ladder comes back first, the body last.
  const fast = (tt) => ({ t: tt, tracking: true, body: true, trackingFps: 30, procMs: 10, latencyP95: 20, renderMs: 2 });
  const back = [];
  for (let i = 0; i < 40; i++) {
    c.update(fast((t += 600)));
    back.push([c.level, c.settings.bodyFps]);
  }
  const bodyBack = back.findIndex(([, b]) => b > 0);
  assert.ok(bodyBack > 0 && back[bodyBack][0] === 0, "the body returned only at level 0");
  assert.equal(back.at(-1)[1], 15);
});

test("without body tracking the ladder is unchanged", async () => {
  const { QualityController: QC } = await import("../src/call/quality.js");
  const c = new QC({ downAfterMs: 1000, settleMs: 0 });
  c.update({ t: 0, tracking: true, trackingFps: 20, procMs: 45, latencyP95: 50, renderMs: 5 });
  c.update({ t: 1200, tracking: true, trackingFps: 20, procMs: 45, latencyP95: 50, renderMs: 5 });
  assert.equal(c.level, 1);
  assert.equal(c.settings.bodyFps, 15);
});

test("body steps: down after a second of a slow face, back up only after long room", async () => {
  const { QualityController: QC, BODY_DOWN_AFTER_MS, BODY_SETTLE_MS, BODY_UP_AFTER_MS } = await import("../src/call/quality.js");
  const c = new QC();
  const slow = (t) => ({ t, tracking: true, body: true, trackingFps: 14, procMs: 60, latencyP95: 50, renderMs: 5 });
  const fast = (t) => ({ t, tracking: true, body: true, trackingFps: 30, procMs: 12, latencyP95: 20, renderMs: 2 });
  const steps = [];
  let t = 0;
  for (; t <= 6000; t += 250) {
    const before = c.settings.bodyFps;
    c.update(slow(t));
    if (c.settings.bodyFps !== before) steps.push([t, c.settings.bodyFps]);
  }
  // 15 -> 8 once the face was short for BODY_DOWN_AFTER_MS; then 4 and 0, each after the settle and another one.
  const step = BODY_DOWN_AFTER_MS + BODY_SETTLE_MS;
  assert.deepEqual(steps, [[BODY_DOWN_AFTER_MS, 8], [BODY_DOWN_AFTER_MS + step, 4], [BODY_DOWN_AFTER_MS + 2 * step, 0]]);
  assert.ok(BODY_DOWN_AFTER_MS + 2 * step < 2 * 2000 + 2500, "faster than two ladder steps");
  assert.equal(c.level, 0, "the face tracker and the render were not touched");
  const roomFrom = t;
  let back = null;
  for (; t <= roomFrom + 2 * BODY_UP_AFTER_MS && back === null; t += 250) {
    c.update(fast(t));
    if (c.settings.bodyFps > 0) back = t;
  }
  assert.ok(back !== null && back - roomFrom >= BODY_UP_AFTER_MS, `the body came back after ${back - roomFrom} ms of room`);
});

test("a face short beside running body trackers lowers them, though its tracker is not busy", async () => {
  const { QualityController: QC, judge, QUALITY_LEVELS: LEVELS } = await import("../src/call/quality.js");
  // 21 fps at 20 ms a detect: busy 0.42, so the face tracker itself is not the cause.
  const short = { tracking: true, body: true, trackingFps: 21, procMs: 20, latencyP95: 40, renderMs: 3, cameraFps: 30 };
  assert.equal(judge(short, { ...LEVELS[0], bodyFps: 15 }).over, "body");
  assert.equal(judge(short, { ...LEVELS[0], bodyFps: 0 }).over, null, "body off: nothing to lower");
  assert.equal(judge({ ...short, body: false }, { ...LEVELS[0], bodyFps: 15 }).over, null);
  assert.equal(judge({ ...short, cameraFps: 20 }, { ...LEVELS[0], bodyFps: 15 }).over, null, "a 20 fps camera: 21 is not short");
  const c = new QC();
  let t = 0;
  for (; t <= 6000; t += 250) c.update({ ...short, t });
  assert.equal(c.settings.bodyFps, 0);
  assert.equal(c.level, 0, "the ladder is not touched for it");
});
