// The hands tracker's rate follows the pose: paused without a wrist in the picture, slow while
// it searches for a hand it lost, full while it finds one (body_tracker.js handsRate).
import { test } from "node:test";
import assert from "node:assert/strict";
import { HAND_LOST_MS, HAND_SEARCH_HZ, handsRate } from "../src/tracking/body_tracker.js";

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
