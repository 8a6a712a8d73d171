// call/sender.js: frames out over the params channel. The token bucket (30 Hz average, bursts of
// 2), the frame written (decoded with the protocol codec), the local preview fed even when no
// channel is open, and a congested channel skipped.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createParams } from "../src/avatar/params.js";
import { decodeFrame } from "../src/call/frame_codec.js";
import { ParamSender, SEND_BURST } from "../src/call/sender.js";

class Channel {
  constructor() {
    this.bufferedAmount = 0;
    this.frames = [];
  }

  send(bytes) {
    this.frames.push(decodeFrame(bytes.slice()));
  }
}

function setup({ channel = new Channel() } = {}) {
  let now = 1000;
  const preview = { pushed: [], expressions: null, push(buf) { this.pushed.push(decodeFrame(buf)); } };
  const sender = new ParamSender({ getChannel: () => channel, localReceiver: preview, now: () => now });
  return { sender, channel, preview, tick: (ms) => (now += ms) };
}

test("a frame carries the pose, flags, seq and capture time", () => {
  const { sender, channel } = setup();
  const p = createParams();
  p.rotation.set([0.5, -0.25, 0.125]);
  p.speaking = true;
  p.faceLost = true;
  sender.push(p, 123456.6);
  assert.equal(channel.frames.length, 1);
  const f = channel.frames[0];
  assert.equal(f.seq, 1);
  assert.equal(f.timestamp_ms, 123456); // whole milliseconds, as wireTimestamp (the roll log) keys it
  assert.deepEqual(f.flags, { face_lost: true, speaking: true });
  assert.deepEqual(f.rotation.map((v) => Math.round(v * 1000) / 1000), [0.5, -0.25, 0.125]);
  assert.equal(sender.framesSent, 1);
  assert.equal(sender.lastFaceLost, true);
});

test("at most SEND_BURST frames at one instant, then about 30 per second", () => {
  const { sender, channel, tick } = setup();
  const p = createParams();
  for (let i = 0; i < 10; i++) sender.push(p, i);
  assert.equal(channel.frames.length, SEND_BURST);
  for (let i = 0; i < 60; i++) {
    tick(1000 / 60); // results at 60 Hz: half of them go out
    sender.push(p, i);
  }
  assert.equal(channel.frames.length, SEND_BURST + 30);
  assert.deepEqual(channel.frames.map((f) => f.seq), Array.from({ length: SEND_BURST + 30 }, (_, i) => i + 1));
});

test("a result that comes early after a late one is still sent", () => {
  const { sender, channel, tick } = setup();
  const p = createParams();
  sender.push(p, 0);
  sender.push(p, 0); // the burst is spent
  tick(50); // late (1.5 periods)...
  sender.push(p, 50);
  tick(20); // ...then early: the saved half token makes it
  sender.push(p, 70);
  assert.equal(channel.frames.length, 4);
});

test("without an open channel the preview still gets every frame; a congested channel is skipped", () => {
  let channel = null;
  const preview = { pushed: [], expressions: null, push(buf) { this.pushed.push(decodeFrame(buf)); } };
  let now = 0;
  const sender = new ParamSender({ getChannel: () => channel, localReceiver: preview, now: () => now });
  const p = createParams();
  p.expressions = { happy: 1 };
  sender.push(p, 1);
  assert.equal(preview.pushed.length, 1);
  assert.deepEqual(preview.expressions, { happy: 1 });
  assert.equal(sender.framesSent, 0);
  channel = new Channel();
  channel.bufferedAmount = 4096;
  now += 100;
  sender.push(p, 2);
  assert.equal(channel.frames.length, 0);
  channel.bufferedAmount = 0;
  now += 100;
  sender.push(p, 3);
  assert.equal(channel.frames.length, 1);
  assert.equal(channel.frames[0].seq, 3); // skipped frames still used their sequence numbers
  assert.equal(preview.pushed.length, 3);
});

test("version 2: the body rides on every other frame at 15 Hz, only when the other side decodes it", () => {
  let version = 1;
  let now = 0;
  const channel = new Channel();
  const sender = new ParamSender({ getChannel: () => channel, now: () => now, getVersion: () => version });
  const p = createParams();
  p.hasBody = true;
  p.body.bones.set([0, 0, Math.sin(0.5), Math.cos(0.5)], 4 * 5); // leftUpperArm turned 1 rad
  p.body.left_hand = true;
  sender.push(p, 0);
  assert.equal(channel.frames[0].version, 1); // a version 1 peer never gets a body
  assert.equal(channel.frames[0].body, null);
  version = 2;
  for (let i = 1; i <= 30; i++) {
    now = i * 33.4;
    sender.push(p, now);
  }
  const v2 = channel.frames.slice(1);
  assert.equal(v2.length, 30);
  assert.ok(v2.every((f) => f.version === 2));
  const withBody = v2.filter((f) => f.body);
  assert.equal(withBody.length, 15);
  assert.ok(Math.abs(withBody[0].body.bones[4 * 5 + 2] - Math.sin(0.5)) < 1e-4);
  assert.equal(withBody[0].body.left_hand, true);
  assert.equal(sender.bodyFramesSent, 15);
  // Adaptive quality: body off -> version 2 frames without the section.
  sender.bodyRateHz = 0;
  now += 1000;
  sender.push(p, now);
  assert.equal(channel.frames.at(-1).body, null);
  assert.equal(sender.lastBytes, 72);
});
