// Sender-side processing without a browser: pose from the matrix, smoothing, face-lost idle,
// actor settings (sensitivity, curves, shortcuts) and the receiver's interpolation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BS, encodeFrame } from "../src/call/frame_codec.js";
import { FrameReceiver } from "../src/call/receiver.js";
import { ClockSync } from "../src/call/clock.js";
import { SENSITIVITY_MAX, applySettings, normalizeSettings, ShortcutState, eventKey, normalizeKey } from "../src/tracking/actor_settings.js";
import { previewBlendshapes } from "../src/tracking/live_preview.js";
import { OneEuroFilter } from "../src/tracking/one_euro.js";
import { HOLD_MS, HOLD_MAX_MS, EASE_MS, MISSES_TO_LOSE, STALL_MS, TrackingPipeline } from "../src/tracking/pipeline.js";
import { poseFromMatrix } from "../src/tracking/pose.js";
import { BUILTIN_CHARACTERS, getCharacter, isBuiltinKey } from "../src/avatar/characters2d.js";

// Calibration reads localStorage; node has none.
globalThis.localStorage = { getItem: () => null, setItem: () => {}, removeItem: () => {} };

function matrix({ yaw = 0, pitch = 0, roll = 0, t = [0, 0, -45] }) {
  // R = Ry * Rx * Rz, column-major 4x4.
  const cy = Math.cos(yaw), sy = Math.sin(yaw), cx = Math.cos(pitch), sx = Math.sin(pitch), cz = Math.cos(roll), sz = Math.sin(roll);
  const Ry = [[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]];
  const Rx = [[1, 0, 0], [0, cx, -sx], [0, sx, cx]];
  const Rz = [[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]];
  const mul = (A, B) => A.map((row, i) => B[0].map((_, j) => row.reduce((acc, _v, k) => acc + A[i][k] * B[k][j], 0)));
  const R = mul(mul(Ry, Rx), Rz);
  const m = new Float32Array(16);
  for (let c = 0; c < 3; c++) for (let r = 0; r < 3; r++) m[c * 4 + r] = R[r][c];
  m[12] = t[0]; m[13] = t[1]; m[14] = t[2]; m[15] = 1;
  return m;
}

test("pose decomposes yaw, pitch, roll and position from the column-major matrix", () => {
  const p = poseFromMatrix(matrix({ yaw: 0.3, pitch: -0.2, roll: 0.21, t: [2, -3, -50] }));
  assert.ok(Math.abs(p.rotation[0] - 0.3) < 1e-5);
  assert.ok(Math.abs(p.rotation[1] + 0.2) < 1e-5);
  assert.ok(Math.abs(p.rotation[2] - 0.21) < 1e-5);
  assert.deepEqual(p.position.map((v) => Math.round(v)), [2, -3, -50]);
});

test("One Euro filter smooths jitter at rest and follows a fast move", () => {
  const f = new OneEuroFilter(1.0, 0.5);
  let out = 0;
  for (let i = 0; i < 30; i++) out = f.filter(i % 2 ? 0.02 : -0.02, i * 33);
  assert.ok(Math.abs(out) < 0.02);
  for (let i = 30; i < 40; i++) out = f.filter(1, i * 33);
  assert.ok(out > 0.9, `follows: ${out}`);
});

function result(ts, { found = true, roll = 0, smile = 0.9 } = {}) {
  const blendshapes = new Float32Array(52);
  blendshapes[BS.mouthSmileLeft] = blendshapes[BS.mouthSmileRight] = smile;
  return { ts, found, blendshapes, matrix: matrix({ roll }) };
}

test("face lost: hold the pose, then ease into idle; late results only hold", () => {
  const p = new TrackingPipeline();
  let t = 1000;
  for (let i = 0; i < 20; i++, t += 33) p.fromResult(result(t, { roll: 0.2 }));
  const held = p.tick(t + 300); // just late: hold, not lost
  assert.equal(held.faceLost, false);
  assert.ok(Math.abs(held.rotation[2] - 0.2) < 0.02);
  const stalled = p.tick(t + STALL_MS + 10); // tracker silent too long: idle
  assert.equal(stalled.faceLost, true);

  const q = new TrackingPipeline();
  t = 1000;
  for (let i = 0; i < 20; i++, t += 33) q.fromResult(result(t, { roll: 0.2 }));
  const last = t - 33;
  let r = q.fromResult(result(last + HOLD_MS / 2, { found: false }));
  assert.equal(r.faceLost, false, "held during HOLD_MS");
  assert.ok(Math.abs(r.rotation[2] - 0.2) < 0.02);
  r = q.fromResult(result(last + HOLD_MAX_MS + 10, { found: false }));
  assert.equal(r.faceLost, true, "two misses, but past HOLD_MAX_MS");
  assert.ok(Math.abs(r.rotation[2] - 0.2) < 0.02, "the ease into idle starts from the held pose");
  r = q.tick(last + HOLD_MAX_MS + EASE_MS + 50);
  assert.equal(r.faceLost, true);
  assert.ok(Math.abs(r.rotation[2]) < 0.05, "eased into the idle pose");
  assert.ok(r.blendshapes[BS.mouthSmileLeft] < 0.3);
});

test("a slow tracker's missed result or two holds the face; MISSES_TO_LOSE in a row lose it", () => {
  const step = 400; // a busy machine's tracker: 2.5 results a second
  const p = new TrackingPipeline();
  let t = 1000;
  for (let i = 0; i < 10; i++, t += step) p.fromResult(result(t, { roll: 0.2 }));
  for (let miss = 1; miss < MISSES_TO_LOSE; miss++, t += step) {
    const r = p.fromResult(result(t, { found: false }));
    assert.equal(r.faceLost, false, `miss ${miss} at ${miss * step} ms is held`);
    assert.equal(p.tick(t + step / 2).faceLost, false, "and stays held until the next result");
  }
  assert.equal(p.fromResult(result(t, { found: false })).faceLost, true, `${MISSES_TO_LOSE} misses in a row`);
  assert.equal(p.fromResult(result(t + step, { roll: 0.2 })).faceLost, false, "the face is back");

  // At camera rate the time rule still decides: HOLD_MS of misses lose the face.
  const q = new TrackingPipeline();
  t = 1000;
  for (let i = 0; i < 20; i++, t += 33) q.fromResult(result(t, { roll: 0.2 }));
  let r;
  for (let since = 33; since <= HOLD_MS + 33; since += 33) r = q.fromResult(result(t - 33 + since, { found: false }));
  assert.equal(r.faceLost, true);
});

test("actor settings: sensitivity per region, server-format curves, shortcuts", () => {
  const s = normalizeSettings({
    faceTracking: true,
    sensitivity: { gaze: 0, eyebrows: 0.5, mouth: 1 },
    curves: { jawOpen: { inMin: 0, inMax: 0.5, outMin: 0, outMax: 1, gamma: 1 } },
    shortcuts: [{ key: "ctrl+1", label: "Smile", weights: { happy: 1 } }],
  });
  const bs = new Float32Array(52);
  bs[BS.eyeLookInLeft] = 0.8;
  bs[BS.browInnerUp] = 0.8;
  bs[BS.jawOpen] = 0.4;
  bs[BS.eyeBlinkLeft] = 0.7;
  applySettings(bs, s);
  assert.equal(bs[BS.eyeLookInLeft], 0);
  assert.ok(Math.abs(bs[BS.browInnerUp] - 0.4) < 1e-6);
  assert.ok(Math.abs(bs[BS.jawOpen] - 0.8) < 1e-6, "0.4 already gives 0.8");
  assert.ok(Math.abs(bs[BS.eyeBlinkLeft] - 0.7) < 1e-6, "blinks are no region: untouched");

  assert.equal(normalizeKey("ctrl+shift+a"), "Ctrl+Shift+A");
  const sc = new ShortcutState(s);
  const down = { code: "Digit1", key: "1", ctrlKey: true, altKey: false, shiftKey: false, metaKey: false, repeat: false };
  assert.equal(eventKey(down), "Ctrl+1");
  assert.ok(sc.keydown(down));
  assert.deepEqual(sc.weights(), { happy: 1 });
  assert.ok(sc.keyup({ ...down, ctrlKey: false }));
  assert.deepEqual(sc.weights(), {});
  // Bad input never throws and falls back to defaults.
  const d = normalizeSettings({ sensitivity: { gaze: "x" }, curves: { nope: {} }, shortcuts: "bad" });
  assert.equal(d.sensitivity.gaze, 1);
  assert.equal(d.curves.size, 0);
});

test("receiver drops stale frames, interpolates and reports rendered timestamps", () => {
  const rx = new FrameReceiver();
  const frame = (seq, roll, ts) => encodeFrame({ seq, timestamp_ms: ts, rotation: [0, 0, roll] }).buffer;
  rx.push(frame(1, 0, 100), 0);
  rx.sample(10);
  rx.push(frame(2, 0.2, 133), 33);
  assert.equal(rx.push(frame(1, 0.9, 100), 34), null, "older frame dropped");
  const mid = rx.sample(33 + 15);
  assert.ok(mid.rotation[2] > 0.01 && mid.rotation[2] < 0.2, `interpolating: ${mid.rotation[2]}`);
  const end = rx.sample(33 + 200);
  assert.ok(Math.abs(end.rotation[2] - 0.2) < 1e-4, "holds the last pose");
  assert.deepEqual(rx.takeRendered(), [100, 133]);
  assert.equal(rx.dropped, 1);
  assert.ok(rx.stalled(33 + 1500));
});

test("receiver: after a reset (the other person left) nothing they last said of themselves stays", () => {
  const rx = new FrameReceiver();
  rx.push(encodeFrame({ seq: 1, timestamp_ms: 100, speaking: true, face_lost: true }).buffer, 0);
  assert.equal(rx.lastFrame.speaking, true);
  rx.reset();
  // The call page shows "speaking" from the last frame unless frames stalled; a reset is no stall.
  assert.equal(rx.stalled(5000), false);
  assert.equal(rx.lastFrame, null);
});

test("receiver: a sample timed before the newest frame arrived shows the previous pose, never beyond it", () => {
  const rx = new FrameReceiver();
  const frame = (seq, shapes) => encodeFrame({ seq, timestamp_ms: seq * 33, blendshapes: shapes }).buffer;
  const open = new Float32Array(52);
  open[BS.mouthStretchLeft] = 0.4;
  open[BS.mouthStretchRight] = 0.4;
  rx.push(frame(1, new Float32Array(52)), 1000);
  rx.sample(1000);
  rx.push(frame(2, open), 1050);
  // An animation frame that began 40 ms before that frame arrived.
  const early = rx.sample(1010);
  for (const i of [BS.mouthStretchLeft, BS.mouthStretchRight]) assert.ok(early.blendshapes[i] >= 0, `${early.blendshapes[i]}`);
  assert.equal(early.blendshapes[BS.mouthStretchLeft], 0);
  const later = rx.sample(1050 + 200);
  assert.ok(Math.abs(later.blendshapes[BS.mouthStretchLeft] - 0.4) < 0.01, `${later.blendshapes[BS.mouthStretchLeft]}`);
});

test("clock sync estimates the offset from the fastest ping", () => {
  const sent = [];
  const c = new ClockSync((m) => sent.push(m));
  c.ping();
  const { t0 } = sent[0];
  c.handle({ t: "pong", id: 1, t0, t1: t0 + 5000 });
  assert.ok(c.synced);
  assert.ok(Math.abs(c.offset - 5000) < 50);
  assert.ok(Math.abs(c.ageOf((t0 + 5000 + 20) % 2 ** 32, t0 + 20 + 30) - 30) < 2);
});

test("built-in 2D characters: at least three, keyed builtin:*", () => {
  assert.ok(BUILTIN_CHARACTERS.length >= 3);
  for (const c of BUILTIN_CHARACTERS) assert.ok(c.key.startsWith("builtin:") && isBuiltinKey(c.key));
  assert.equal(getCharacter("nope").key, BUILTIN_CHARACTERS[0].key);
});

test("actor settings: sensitivity boosts above 1 up to SENSITIVITY_MAX, the boosted score clamped to 1", () => {
  assert.equal(SENSITIVITY_MAX, 2);
  const s = normalizeSettings({ sensitivity: { gaze: 5, eyebrows: 1.5, mouth: 2 }, curves: { mouthSmileLeft: { inMin: 0, inMax: 1, outMin: 0, outMax: 0.5 } } });
  assert.deepEqual(s.sensitivity, { gaze: 2, eyebrows: 1.5, mouth: 2 }); // 5 is past the maximum
  const bs = new Float32Array(52);
  bs[BS.browInnerUp] = 0.2;
  bs[BS.jawOpen] = 0.3;
  bs[BS.mouthFunnel] = 0.7;
  bs[BS.mouthSmileLeft] = 0.4;
  bs[BS.eyeLookUpLeft] = 0.1;
  const out = previewBlendshapes(bs, s);
  assert.ok(Math.abs(out[BS.browInnerUp] - 0.3) < 1e-6);
  assert.ok(Math.abs(out[BS.jawOpen] - 0.6) < 1e-6);
  assert.equal(out[BS.mouthFunnel], 1); // 1.4 clamped
  assert.ok(Math.abs(out[BS.mouthSmileLeft] - 0.4) < 1e-6, "boosted to 0.8, then the curve halves it");
  assert.ok(Math.abs(out[BS.eyeLookUpLeft] - 0.2) < 1e-6);
  assert.ok(Math.abs(bs[BS.jawOpen] - 0.3) < 1e-6, "the preview works on a copy: the raw scores stay");
});
