// call/receiver.js with version 2 frames: the bones glide between body frames (which come at
// their own, lower rate), face-only frames leave them gliding, and a body that stops goes back to
// the avatar's rest pose.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createBody, encodeFrame } from "../src/call/frame_codec.js";
import { FrameReceiver } from "../src/call/receiver.js";

const UPPER = 4 * 5; // leftUpperArm
function bodyFrame(seq, angle, now) {
  const body = createBody();
  body.bones.set([0, 0, Math.sin(angle / 2), Math.cos(angle / 2)], UPPER);
  body.fingers[1] = angle / 2;
  return encodeFrame({ version: 2, seq, timestamp_ms: now, body }).slice().buffer;
}
const angleZ = (p) => 2 * Math.atan2(p.body.bones[UPPER + 2], p.body.bones[UPPER + 3]);

test("bones glide between body frames; face-only frames do not reset them", () => {
  const r = new FrameReceiver({ interpolate: false });
  r.push(bodyFrame(1, 0, 0), 0);
  let p = r.sample(0);
  assert.equal(p.hasBody, true);
  assert.ok(Math.abs(angleZ(p)) < 1e-3);
  r.push(encodeFrame({ version: 2, seq: 2 }).slice().buffer, 33); // face only
  r.push(bodyFrame(3, 1.0, 66), 66);
  r.push(encodeFrame({ version: 2, seq: 4 }).slice().buffer, 99);
  p = r.sample(66 + 33); // half way through the body interval (66 ms)
  const mid = angleZ(p);
  assert.ok(mid > 0.3 && mid < 0.7, `half way: ${mid}`);
  assert.ok(p.body.fingers[1] > 0.15 && p.body.fingers[1] < 0.35);
  p = r.sample(66 + 70);
  assert.ok(Math.abs(angleZ(p) - 1.0) < 1e-3);
  assert.equal(r.bodyFrames, 2);
  // No body for over 2 s (the other side's body tracking went off): the rest pose again.
  r.push(encodeFrame({ version: 2, seq: 5 }).slice().buffer, 2200);
  assert.equal(r.sample(2200).hasBody, false);
});

test("version 1 frames never carry a body", () => {
  const r = new FrameReceiver();
  r.push(encodeFrame({ seq: 1 }).slice().buffer, 0);
  assert.equal(r.sample(10).hasBody, false);
});
