// call/adaptive.js: the glue between the page's counters and the quality controller. A tracker
// that can't keep up (fed as cumulative counters, as the page keeps them) lowers the level, and
// the level's settings reach the tracker and both avatar views; the stored budget is used.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AdaptiveQuality } from "../src/call/adaptive.js";
import { BODY_RATES, BUDGET_STORAGE_KEY, QUALITY_LEVELS } from "../src/call/quality.js";
import { SampleBuffer } from "../src/call/stats.js";

function setup({ stored = null, tracker = {}, cameraOn = true, body = false } = {}) {
  let t = 0;
  const applied = [];
  const bodyRates = [];
  const media = {
    tracker, cameraOn, setTrackingQuality: async (q) => applied.push({ ...q }),
    bodyWanted: () => body, setBodyRate: (hz) => bodyRates.push(hz),
  };
  const view = () => ({
    count: 0, drawMs: 0, scales: [], effects: [],
    setRenderScale(s) { this.scales.push(s); },
    setEffects(on) { this.effects.push(on); },
  });
  const views = [view(), view()];
  const stats = { trackingResults: 0, trackingProcMs: 0, latency: new SampleBuffer() };
  const storage = { getItem: (k) => (k === BUDGET_STORAGE_KEY ? stored : null) };
  const q = new AdaptiveQuality({ media, views: () => views, stats, storage, now: () => t });
  /** `ms` of a page: `fps` tracker results each taking `procMs`, draws of `drawMs`, latency samples. */
  const live = (ms, { fps, procMs, drawMs = 2, latency = 40 }) => {
    for (let end = t + ms; t < end;) {
      t += 500;
      stats.trackingResults += fps / 2;
      stats.trackingProcMs += (fps / 2) * procMs;
      for (const v of views) {
        v.count += 10;
        v.drawMs += 10 * drawMs;
      }
      for (let i = 0; i < 15; i++) stats.latency.push(latency);
      q.tick();
    }
  };
  return { q, applied, views, live, bodyRates };
}

test("a tracker that can't keep up steps the level down and the settings reach tracker and views", () => {
  const { q, applied, views, live } = setup();
  q.apply(); // what start() does first
  assert.deepEqual(applied.at(-1), { ...QUALITY_LEVELS[0] });
  live(4000, { fps: 30, procMs: 20 }); // fine: no change
  assert.equal(q.level, 0);
  live(60_000, { fps: 18, procMs: 50 }); // slow: down to the floor
  assert.equal(q.level, QUALITY_LEVELS.length - 1);
  // Detection takes 50 ms whatever the input's size here: the input step is tried and undone,
  // and the ladder goes on from the rate step with the camera's full input.
  const keys = QUALITY_LEVELS.map((l) => l.key);
  assert.deepEqual(applied.map((a) => a.key), ["full", "input_480", "full", ...keys.slice(keys.indexOf("rate_24"))]);
  assert.deepEqual([applied.at(-1).inputWidth, applied.at(-1).inputHeight], [640, 480]);
  for (const v of views) {
    assert.deepEqual(v.scales.at(-1), 0.5);
    assert.equal(v.effects.at(-1), false);
  }
  const snap = q.snapshot();
  assert.equal(snap.key, "effects_off");
  assert.equal(snap.levels, QUALITY_LEVELS.length);
  assert.equal(Math.round(snap.measured.trackingFps), 18);
  assert.equal(snap.history[0].why, "tracking");
});

test("the stored budget is the one judged (a zero draw budget lowers the level with a fast tracker)", () => {
  const { q, live } = setup({ stored: '{"renderMs": 0}' });
  live(12_000, { fps: 30, procMs: 10, drawMs: 1 });
  assert.ok(q.level >= 2, `${q.level}`);
  assert.equal(q.snapshot().reason, "render");
  const plain = setup();
  plain.live(12_000, { fps: 30, procMs: 10, drawMs: 1 });
  assert.equal(plain.q.level, 0);
});

test("latency over budget lowers the level too; room brings it back up", () => {
  const { q, live } = setup();
  live(12_000, { fps: 30, procMs: 10, latency: 300 });
  assert.equal(q.settings.key, "rate_24"); // the input step tried (no shorter detection) and passed over
  assert.equal(q.snapshot().reason, "latency");
  live(120_000, { fps: 30, procMs: 10, latency: 30 });
  assert.equal(q.level, 0);
});

test("a camera still starting counts as tracking; a camera switched off lets steps pass over tracking levels", () => {
  const starting = setup({ stored: '{"renderMs": 0}', tracker: null, cameraOn: true });
  starting.live(6000, { fps: 0, procMs: 0, drawMs: 1 });
  assert.equal(starting.q.level, 1); // the first step is the tracking input, as for a running tracker
  const off = setup({ stored: '{"renderMs": 0}', tracker: null, cameraOn: false });
  off.live(6000, { fps: 0, procMs: 0, drawMs: 1 });
  assert.equal(off.q.settings.key, "render_75"); // straight to the first render change
});

test("a body step reaches the body trackers at once, though the level stays", () => {
  const { q, applied, bodyRates, live } = setup({ body: true });
  q.apply();
  assert.deepEqual(bodyRates, [BODY_RATES[0]]);
  live(2500, { fps: 12, procMs: 70 }); // the face can't keep up beside body and hands
  assert.equal(q.level, 0);
  assert.deepEqual(bodyRates, BODY_RATES.slice(0, 2)); // lowered, not waiting for a level change
  live(4000, { fps: 12, procMs: 70 });
  assert.deepEqual(bodyRates, BODY_RATES); // down to off, a step at a time
  assert.equal(applied.at(-1).key, QUALITY_LEVELS[0].key);
});
