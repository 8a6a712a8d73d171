// Rendering policy without a browser: VRM blink presets, the receiver's newest-pose mode and
// "anything new to draw?" answer, and the view's draw pacing under a frame-rate cap.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BS, encodeFrame } from "../src/call/frame_codec.js";
import { FrameReceiver } from "../src/call/receiver.js";
import { createParams } from "../src/avatar/params.js";
import { BLINK_AGREE, createPresetWeights, presetWeights } from "../src/avatar/vrm_renderer.js";
import { nextDue } from "../src/avatar/view.js";

function eyes(left, right, smile = 0) {
  const p = createParams();
  p.blendshapes[BS.eyeBlinkLeft] = left;
  p.blendshapes[BS.eyeBlinkRight] = right;
  p.blendshapes[BS.mouthSmileLeft] = p.blendshapes[BS.mouthSmileRight] = smile;
  return p;
}

test("VRM blink: both eyes closed use `blink` alone, never with blinkLeft/blinkRight", () => {
  const w = presetWeights(eyes(0.95, 0.92));
  assert.ok(w.blink > 0.9, `blink ${w.blink}`);
  assert.equal(w.blinkLeft, 0);
  assert.equal(w.blinkRight, 0);
  // What the model shows per eye when the morphs add up (typical VRM): closed once, not twice.
  assert.ok(w.blink + w.blinkLeft <= 1 && w.blink + w.blinkRight <= 1);
});

test("VRM blink: a wink uses the per-eye expressions and no `blink`", () => {
  const w = presetWeights(eyes(0.95, 0.05));
  assert.equal(w.blink, 0);
  assert.ok(w.blinkLeft > 0.9, `left ${w.blinkLeft}`);
  assert.equal(w.blinkRight, 0);
  const r = presetWeights(eyes(0.1, 0.8));
  assert.equal(r.blink, 0);
  assert.ok(r.blinkRight > 0.8 && r.blinkLeft < 1e-6);
});

test("VRM blink: blink and per-eye weights are never both set, over the whole range", () => {
  const out = createPresetWeights();
  for (let l = 0; l <= 1.0001; l += 0.05) {
    for (let r = 0; r <= 1.0001; r += 0.05) {
      for (const smile of [0, 0.9]) {
        const w = presetWeights(eyes(l, r, smile), out);
        assert.equal(w, out, "the output object is reused");
        const perEye = w.blinkLeft > 0 || w.blinkRight > 0;
        assert.ok(!(w.blink > 0 && perEye), `l=${l} r=${r}: blink ${w.blink} with ${w.blinkLeft}/${w.blinkRight}`);
        for (const k of ["blink", "blinkLeft", "blinkRight"]) assert.ok(w[k] >= 0 && w[k] <= 1);
        // Each eye ends up as closed as its own score says (within the agreement tolerance).
        const shownL = w.blink + w.blinkLeft;
        const shownR = w.blink + w.blinkRight;
        const want = presetWeights(eyes(l, l, smile)).blink; // what this eye alone maps to
        assert.ok(Math.abs(shownL - want) <= BLINK_AGREE / 2 + 1e-6, `left eye l=${l} r=${r}: ${shownL} vs ${want}`);
        const wantR = presetWeights(eyes(r, r, smile)).blink;
        assert.ok(Math.abs(shownR - wantR) <= BLINK_AGREE / 2 + 1e-6, `right eye l=${l} r=${r}: ${shownR} vs ${wantR}`);
      }
    }
  }
});

test("VRM blink on a model without per-eye expressions: `blink` follows the more open eye", () => {
  const w = presetWeights(eyes(0.95, 0.05), createPresetWeights(), { perEye: false });
  assert.equal(w.blinkLeft, 0);
  assert.equal(w.blinkRight, 0);
  assert.equal(w.blink, 0);
  const both = presetWeights(eyes(0.95, 0.9), createPresetWeights(), { perEye: false });
  assert.ok(both.blink > 0.85);
});

test("smiling still squints less through the blink (happy eyes are not closed twice)", () => {
  const plain = presetWeights(eyes(0.9, 0.9, 0));
  const happy = presetWeights(eyes(0.9, 0.9, 0.9));
  assert.ok(happy.happy > 0.5);
  assert.ok(happy.blink < plain.blink);
});

const frame = (seq, roll, ts, extra = {}) => encodeFrame({ seq, timestamp_ms: ts, rotation: [0, 0, roll], ...extra }).buffer;

test("receiver in newest-pose mode draws each frame's pose as it is, once", () => {
  const rx = new FrameReceiver({ interpolate: false });
  assert.ok(rx.needsRender(0), "idle animation before any frame");
  rx.push(frame(1, 0.1, 100), 0);
  assert.ok(rx.needsRender(1));
  assert.ok(Math.abs(rx.sample(1).rotation[2] - 0.1) < 1e-3);
  assert.equal(rx.needsRender(5), false, "nothing new until the next frame");
  rx.push(frame(2, 0.3, 133), 33);
  assert.ok(rx.needsRender(34));
  const shown = rx.sample(34);
  assert.ok(Math.abs(shown.rotation[2] - 0.3) < 1e-3, `the new pose at its first draw: ${shown.rotation[2]}`);
  assert.equal(rx.needsRender(40), false);
  assert.deepEqual(rx.takeRendered(), [100, 133]);
  // Held pose: nothing to draw while frames are late...
  assert.equal(rx.needsRender(33 + 2000), false);
  // ...a new expression override is something to draw...
  rx.expressions = { happy: 1 };
  assert.ok(rx.needsRender(33 + 2001));
  assert.deepEqual(rx.sample(33 + 2001).expressions, { happy: 1 });
  assert.equal(rx.needsRender(33 + 2002), false);
  // ...and after a long silence the idle animation runs, so every frame is new.
  assert.ok(rx.needsRender(33 + 3500));
  rx.sample(33 + 3500);
  assert.ok(rx.needsRender(33 + 3516));
});

test("receiver in glide mode needs draws while gliding, then none until the next frame", () => {
  const rx = new FrameReceiver();
  rx.push(frame(1, 0, 100), 0);
  rx.sample(0);
  rx.push(frame(2, 0.2, 133), 33);
  const first = rx.sample(34);
  assert.ok(first.rotation[2] > 0 && first.rotation[2] < 0.2, "gliding");
  assert.ok(rx.needsRender(50), "still gliding");
  rx.sample(33 + 100);
  assert.equal(rx.needsRender(33 + 120), false, "settled on the target");
  // A reordered (stale) frame changes nothing.
  assert.equal(rx.push(frame(1, 0.9, 100), 33 + 121), null);
  assert.equal(rx.needsRender(33 + 122), false);
});

/** Draw times of a loop driven by animation frames at `hz` for 1 s under `cap` fps. */
function draws(hz, cap, jitter = () => 0) {
  let due = 0;
  const out = [];
  for (let i = 0; i < hz; i++) {
    const t = 1000 + (i * 1000) / hz + jitter(i);
    const d = nextDue(t, due, 1000 / cap);
    if (d === null) continue;
    due = d;
    out.push(t);
  }
  return out;
}

test("pacing: a cap draws at the cap's rate on a 60 Hz display, jitter or not", () => {
  assert.equal(draws(60, 30).length, 30);
  assert.equal(draws(60, 20).length, 20);
  assert.equal(draws(60, 10).length, 10);
  // Animation frames jitter by a millisecond or two: still every other frame at 30 fps.
  const jittery = draws(60, 30, (i) => (i % 3 === 0 ? 1.5 : -1.2));
  assert.ok(jittery.length >= 29 && jittery.length <= 31, `${jittery.length}`);
  // Never faster than the cap.
  const d = draws(120, 30);
  for (let i = 1; i < d.length; i++) assert.ok(d[i] - d[i - 1] >= 1000 / 30 - 2.01);
});

test("pacing: after a pause the schedule starts over instead of bursting", () => {
  let due = nextDue(0, 0, 50);
  assert.equal(due, 50);
  due = nextDue(1000, due, 50); // a long gap
  assert.equal(due, 1050);
  assert.equal(nextDue(1010, due, 50), null);
});
