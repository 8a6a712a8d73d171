// call/voice_mouth.js: the voice opens the mouth when the camera can't see it, rests in silence,
// leaves a tracked mouth alone, and hands over between tracking and voice without a jump.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BLENDSHAPE_COUNT, BS } from "../src/call/frame_codec.js";
import { VOICE_FLOOR, VOICE_LOUD, VoiceMouth, opennessFor } from "../src/call/voice_mouth.js";

const FRAME_MS = 1000 / 30;
const frame = (fill = {}) => {
  const blendshapes = new Float32Array(BLENDSHAPE_COUNT);
  for (const [name, v] of Object.entries(fill)) blendshapes[BS[name]] = v;
  return { blendshapes };
};

/** Run `n` frames at 30 Hz from time `t0`; returns the last frame's params and the next time. */
function run(mouth, n, { level, faceTracked, t0 = 0, fill = {} }) {
  let p;
  let t = t0;
  for (let i = 0; i < n; i++) {
    p = frame(fill);
    mouth.apply(p, { level, faceTracked, t });
    t += FRAME_MS;
  }
  return { p, t };
}

test("loudness maps to openness between the noise floor and the loud level", () => {
  assert.equal(opennessFor(0), 0);
  assert.equal(opennessFor(VOICE_FLOOR), 0);
  assert.equal(opennessFor(VOICE_LOUD), 1);
  assert.equal(opennessFor(1), 1);
  assert.equal(opennessFor(NaN), 0);
  const mid = opennessFor((VOICE_FLOOR + VOICE_LOUD) / 2);
  assert.ok(mid > 0.5 && mid < 1, mid); // quieter speech still opens visibly
});

test("with tracking off the voice opens the jaw while talking and it rests in silence", () => {
  const mouth = new VoiceMouth();
  const talking = run(mouth, 10, { level: 0.1, faceTracked: false, fill: { mouthClose: 0.3 } });
  assert.ok(talking.p.blendshapes[BS.jawOpen] > 0.4, talking.p.blendshapes[BS.jawOpen]);
  assert.ok(talking.p.blendshapes[BS.mouthLowerDownLeft] > 0.15);
  assert.ok(talking.p.blendshapes[BS.mouthClose] < 0.3);
  const silent = run(mouth, 15, { level: 0.001, faceTracked: false, t0: talking.t });
  assert.ok(silent.p.blendshapes[BS.jawOpen] < 0.01, silent.p.blendshapes[BS.jawOpen]);
  assert.equal(silent.p.blendshapes[BS.mouthLowerDownLeft] < 0.01, true);
});

test("opening is faster than closing (syllables snap, the jaw does not flutter)", () => {
  const opening = new VoiceMouth();
  run(opening, 1, { level: 0, faceTracked: false });
  const up = run(opening, 2, { level: VOICE_LOUD, faceTracked: false, t0: FRAME_MS });
  const closing = new VoiceMouth();
  const full = run(closing, 30, { level: VOICE_LOUD, faceTracked: false });
  const down = run(closing, 2, { level: 0, faceTracked: false, t0: full.t });
  const rose = up.p.blendshapes[BS.jawOpen];
  const fell = full.p.blendshapes[BS.jawOpen] - down.p.blendshapes[BS.jawOpen];
  assert.ok(rose > fell, { rose, fell });
});

test("a tracked face owns the mouth: the voice changes nothing", () => {
  const mouth = new VoiceMouth();
  const { p } = run(mouth, 20, { level: VOICE_LOUD, faceTracked: true, fill: { jawOpen: 0.1, mouthClose: 0.2 } });
  assert.equal(mouth.weight, 0);
  assert.equal(p.blendshapes[BS.jawOpen], Math.fround(0.1));
  assert.equal(p.blendshapes[BS.mouthClose], Math.fround(0.2));
});

test("the voice never closes a mouth the pose has open", () => {
  const mouth = new VoiceMouth();
  const { p } = run(mouth, 10, { level: 0, faceTracked: false, fill: { jawOpen: 0.5 } });
  assert.equal(p.blendshapes[BS.jawOpen], 0.5);
});

test("losing the face hands the mouth to the voice gradually, and back when it returns", () => {
  const mouth = new VoiceMouth();
  const tracked = run(mouth, 10, { level: 0.1, faceTracked: true });
  assert.equal(mouth.weight, 0);
  const lost1 = run(mouth, 1, { level: 0.1, faceTracked: false, t0: tracked.t });
  assert.ok(mouth.weight > 0 && mouth.weight < 0.5, mouth.weight); // no jump on the first frame
  const lost = run(mouth, 45, { level: 0.1, faceTracked: false, t0: lost1.t });
  assert.ok(mouth.weight > 0.95, mouth.weight);
  assert.ok(lost.p.blendshapes[BS.jawOpen] > 0.4);
  run(mouth, 1, { level: 0.1, faceTracked: true, t0: lost.t });
  assert.ok(mouth.weight < 0.95 && mouth.weight > 0.5, mouth.weight); // easing back
  run(mouth, 60, { level: 0.1, faceTracked: true, t0: lost.t + FRAME_MS });
  assert.ok(mouth.weight < 0.01, mouth.weight);
});

test("a page that starts without tracking gives the voice the mouth from the first frame", () => {
  const mouth = new VoiceMouth();
  run(mouth, 1, { level: 0, faceTracked: false });
  assert.equal(mouth.weight, 1);
});
