// The hands tracker's rate follows the pose: paused without a wrist in the picture, slow while
// it searches for a hand it lost, full while it finds one (body_tracker.js handsRate).
import { test } from "node:test";
import assert from "node:assert/strict";
import { HAND_LOST_MS, HAND_SEARCH_HZ, SolutionWorker, handsRate } from "../src/tracking/body_tracker.js";

const pose = (left, right) => {
  const visibility = Array.from({ length: 33 }, () => 0.99);
  visibility[15] = left;
  visibility[16] = right;
  return { visibility };
};

test("no wrist in the picture: the hands tracker pauses", () => {
  assert.equal(handsRate({ pose: pose(0.1, 0.2), now: 5000, lastHandAt: 4990, hz: 15 }), 0);
  assert.equal(handsRate({ pose: null, now: 5000, lastHandAt: 4990, hz: 15 }), 0);
});

test("a wrist in the picture and a hand found lately: full rate", () => {
  assert.equal(handsRate({ pose: pose(0.9, 0.1), now: 5000, lastHandAt: 5000 - HAND_LOST_MS + 10, hz: 15 }), 15);
  assert.equal(handsRate({ pose: pose(0.1, 0.9), now: 5000, lastHandAt: 4900, hz: 8 }), 8);
});

test("a wrist seen but no hand found for a while: the search rate, never above the asked rate", () => {
  assert.equal(handsRate({ pose: pose(0.9, 0.9), now: 5000, lastHandAt: 5000 - HAND_LOST_MS - 1, hz: 15 }), HAND_SEARCH_HZ);
  assert.equal(handsRate({ pose: pose(0.9, 0.9), now: 5000, lastHandAt: -Infinity, hz: 2 }), 2);
});

test("adaptive quality's 0 stops the hands tracker whatever the pose", () => {
  assert.equal(handsRate({ pose: pose(0.9, 0.9), now: 5000, lastHandAt: 5000, hz: 0 }), 0);
});

test("a rate asked while the model loads is the one the worker keeps (not the start rate)", async () => {
  // A stand-in for the browser's Worker: it answers "ready" only when the test lets it, and
  // records the rate messages it got, in order.
  const rates = [];
  let ready = null;
  globalThis.Worker = class {
    postMessage(msg) {
      if (msg.type === "init") ready = () => this.onmessage({ data: { type: "ready" } });
      if (msg.type === "rate") rates.push(msg.maxFps);
    }
  };
  globalThis.MediaStreamTrackProcessor = class {
    constructor() { this.readable = {}; }
  };
  const w = new SolutionWorker({ url: "worker.js", base: "/", kind: "hands", onResult() {}, onError() {} });
  const started = w.start({ clone: () => ({ stop() {} }) }, 15);
  w.setRate(4); // the pose saw a wrist but no hand yet: the search rate, while the model still loads
  ready();
  await started;
  assert.equal(rates.at(-1), 4);
  assert.equal(w.rate, 4);
  delete globalThis.Worker;
  delete globalThis.MediaStreamTrackProcessor;
});
