// Emotion -> avatar parameters with per-parameter lerp, idle motion, and the mapping to the
// shared avatar params (frontend/src/chat/).
import test from "node:test";
import assert from "node:assert/strict";
import { ExpressionAnimator, poseTargets, lerp } from "../src/chat/expression.js";
import { frameToParams } from "../src/chat/avatar_params.js";
import { createParams, BS } from "../src/avatar/params.js";

const TABLE = {
  neutral: { expressions: {}, head: { pitch: 0, yaw: 0, roll: 0 }, transition: 0.3, transitions: {} },
  happy: { expressions: { happy: 0.8, relaxed: 0.2 }, head: { pitch: -3, yaw: 0, roll: 4 }, transition: 0.2, transitions: { head_roll: 0.4 } },
  sad: { expressions: { sad: 0.8 }, head: { pitch: 9, yaw: -3, roll: -3 }, transition: 0.5, transitions: {} },
  surprised: { expressions: { surprised: 2 }, head: { pitch: -99, yaw: 0, roll: 0 }, transition: 3, transitions: { happy: 0.01 } },
};

function seeded(seed = 1) {
  let s = seed;
  return () => ((s = (s * 16807) % 2147483647) / 2147483647);
}

test("pose targets clamp weights, angles and transition times", () => {
  const { targets, durations } = poseTargets(TABLE, "surprised");
  assert.equal(targets.surprised, 1);
  assert.equal(targets.head_pitch, -30);
  assert.equal(durations.surprised, 0.5); // 3 s clamped to 0.5
  assert.equal(durations.happy, 0.1); // 0.01 s clamped to 0.1
  assert.deepEqual(poseTargets(TABLE, "nope").targets, poseTargets(TABLE, "neutral").targets);
});

test("each parameter lerps over its own transition time", () => {
  const a = new ExpressionAnimator(TABLE, { random: seeded(), now: 0 });
  a.setEmotion("happy", 1000);
  let f = a.update(1100); // halfway through happy's 0.2 s
  assert.ok(Math.abs(f.expressions.happy - lerp(0, 0.8, 0.5)) < 1e-9);
  f = a.update(1200);
  assert.ok(Math.abs(f.expressions.happy - 0.8) < 1e-9); // done at 0.2 s
  assert.ok(Math.abs(a.values.head_roll - 2) < 1e-9); // head_roll takes 0.4 s: halfway
  assert.equal(f.transitioning, true);
  a.update(1400);
  assert.ok(Math.abs(a.values.head_roll - 4) < 1e-9);
  assert.equal(a.update(1401).transitioning, false);
});

test("a new emotion starts from where the face is, no jump", () => {
  const a = new ExpressionAnimator(TABLE, { random: seeded(), now: 0 });
  a.setEmotion("happy", 0);
  a.update(100); // happy at 0.4
  const before = a.values.happy;
  a.setEmotion("sad", 100);
  const f = a.update(100);
  assert.ok(Math.abs(f.expressions.happy - before) < 1e-9);
  a.update(600);
  assert.ok(Math.abs(a.values.happy) < 1e-9 && Math.abs(a.values.sad - 0.8) < 1e-9);
});

test("unknown emotions become neutral", () => {
  const a = new ExpressionAnimator(TABLE, { random: seeded(), emotion: "bogus" });
  assert.equal(a.emotion, "neutral");
  a.setEmotion("furious", 0);
  assert.equal(a.emotion, "neutral");
});

test("idle: blinks every 2-6 s, breathes, sways; the mouth moves only while speaking", () => {
  const a = new ExpressionAnimator(TABLE, { random: seeded(7), now: 0 });
  let blinks = 0;
  let wasClosed = false;
  const yaws = [];
  for (let t = 0; t <= 30000; t += 16) {
    const f = a.update(t);
    const closed = f.blink > 0.9;
    if (closed && !wasClosed) blinks++;
    wasClosed = closed;
    yaws.push(f.head.yaw);
    assert.equal(f.mouth, 0);
  }
  assert.ok(blinks >= 5 && blinks <= 16, `blinks ${blinks}`);
  assert.ok(Math.max(...yaws) - Math.min(...yaws) > 1, "the head sways");
});

test("frames map to the shared avatar params (2D blendshapes and VRM presets)", () => {
  const a = new ExpressionAnimator(TABLE, { random: seeded(), now: 0, emotion: "happy" });
  const p = frameToParams(a.update(0), createParams(), false);
  assert.ok(p.blendshapes[BS.mouthSmileLeft] > 0.5);
  assert.equal(p.expressions.happy, 0.8);
  assert.ok(Math.abs(p.rotation[2] - (4 * Math.PI) / 180) < 0.05);
  const s = frameToParams(new ExpressionAnimator(TABLE, { random: seeded(), emotion: "sad" }).update(0), createParams());
  assert.ok(s.blendshapes[BS.mouthFrownLeft] > 0.5 && s.blendshapes[BS.mouthSmileLeft] === 0);
});
