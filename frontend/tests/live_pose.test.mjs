import assert from "node:assert/strict";
import { test } from "node:test";

import { PoseDriver, lerpTowards, mouthAt } from "../src/live/pose.js";

test("lerp moves a fraction of the way per frame and lands at the target", () => {
  assert.equal(lerpTowards(0, 1, 0.1, 0.5), 0.2);
  assert.equal(lerpTowards(0, 1, 0.6, 0.5), 1);
  assert.equal(lerpTowards(0.3, 1, 0.1, 0), 1);
});

test("mouth follows visemes and rests in silence", () => {
  const visemes = [{ t: 0, v: "aa" }, { t: 0.5, v: "silence" }, { t: 1, v: "ou", w: 0.5 }];
  assert.equal(mouthAt(visemes, 0.2), 1);
  assert.equal(mouthAt(visemes, 0.7), 0);
  assert.equal(mouthAt(visemes, 1.2), 0.25);
  assert.equal(mouthAt(visemes, -1), 0);
  assert.equal(mouthAt([], 0.3), 0);
});

test("an emotion's pose is reached gradually, custom mapping wins, mouth opens only while speaking", () => {
  const pose = new PoseDriver({ lerpS: { default: 0.3 }, random: () => 0.5, emotionMap: { happy: { params: { Smile: 0.7 } } } });
  let v = pose.update(0, 0.016);
  assert.equal(v.MouthOpen, 0);
  pose.setEmotion("happy");
  v = pose.update(0.05, 0.05);
  assert.ok(v.Smile > 0.1 && v.Smile < 0.7, `partway: ${v.Smile}`);
  for (let t = 0.1; t < 2; t += 0.05) v = pose.update(t, 0.05);
  assert.ok(Math.abs(v.Smile - 0.7) < 0.01);
  pose.speak(2, [{ t: 0, v: "aa" }], 0.5);
  for (let t = 2.02; t < 2.3; t += 0.02) v = pose.update(t, 0.02);
  assert.ok(v.MouthOpen > 0.8, `open: ${v.MouthOpen}`);
  for (let t = 2.3; t < 3.5; t += 0.02) v = pose.update(t, 0.02);
  assert.ok(v.MouthOpen < 0.01, `closed: ${v.MouthOpen}`);
  assert.equal(pose.speaking, false);
});

test("a glance moves the eyes away briefly", () => {
  const pose = new PoseDriver({ lerpS: { default: 0.1 }, random: () => 0.9 });
  pose.update(0, 0.016);
  pose.glance(0, 0.4);
  let v;
  for (let t = 0.02; t < 0.35; t += 0.02) v = pose.update(t, 0.02);
  assert.ok(v.EyeX > 0.5);
  for (let t = 0.4; t < 1.2; t += 0.02) v = pose.update(t, 0.02);
  assert.ok(Math.abs(v.EyeX) < 0.01);
});
