import assert from "node:assert/strict";
import { test } from "node:test";
import { BargeDetector, frameLevel } from "../src/chat/barge_detector.js";

const speech = { probability: 0.9, micLevel: 0.1, outputLevel: 0.2, speaking: true };

test("two frames of the user's speech over the character fire once", () => {
  const d = new BargeDetector();
  assert.equal(d.push(speech), false);
  assert.equal(d.push(speech), true);
  assert.equal(d.push(speech), false); // once per reply
});

test("a quiet closure inside a word does not start the count over", () => {
  const d = new BargeDetector();
  d.push(speech);
  assert.equal(d.push({ ...speech, probability: 0.2 }), false);
  assert.equal(d.push(speech), true);
});

test("echo of the character's own voice never fires", () => {
  const d = new BargeDetector();
  const echo = { probability: 0.95, micLevel: 0.02, outputLevel: 0.2, speaking: true }; // a tenth of the output
  for (let i = 0; i < 50; i += 1) assert.equal(d.push(echo), false);
});

test("speech while the character is silent is a turn, not a barge-in; the next reply can fire again", () => {
  const d = new BargeDetector();
  for (let i = 0; i < 5; i += 1) assert.equal(d.push({ ...speech, speaking: false }), false);
  d.push(speech);
  assert.equal(d.push(speech), true);
  d.push({ ...speech, speaking: false }); // the reply ended
  d.push(speech);
  assert.equal(d.push(speech), true);
});

test("scattered single frames of noise never add up", () => {
  const d = new BargeDetector();
  const quiet = { ...speech, probability: 0.1 };
  for (let i = 0; i < 40; i += 1) assert.equal(d.push(i % 3 === 0 ? speech : quiet), false);
});

test("frameLevel is the RMS", () => {
  assert.equal(frameLevel(new Float32Array([0.5, -0.5, 0.5, -0.5])), 0.5);
  assert.equal(frameLevel(new Float32Array(0)), 0);
});
