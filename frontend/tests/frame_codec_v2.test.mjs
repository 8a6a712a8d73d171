// Version 2 frames (optional body section): the JS codec passes the same vectors as rooms/protocol.py
// (docs/protocol.vectors.json, key "v2"), byte for byte.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  BODY_BONES, FINGERS, FRAME_V2_BODY_BYTES, FrameError, createBody, decodeFrame, encodeFrame, fromHex, toHex,
} from "../src/call/frame_codec.js";

const raw = JSON.parse(readFileSync(new URL("../../docs/protocol.vectors.json", import.meta.url), "utf8"));
const v2 = raw.v2;
const num = (v) => (typeof v === "string" ? Number(v) : v); // "NaN" / "Infinity" / "-Infinity"

function fields(values) {
  const body = values.body
    ? {
      bones: values.body.bones.flat().map(num),
      fingers: values.body.fingers.map(num),
      left_hand: values.body.left_hand,
      right_hand: values.body.right_hand,
    }
    : null;
  return { ...values, face_lost: values.flags.face_lost, speaking: values.flags.speaking, body };
}

function assertDecodesTo(hex, e) {
  const f = decodeFrame(fromHex(hex));
  assert.equal(f.version, e.version);
  assert.equal(f.face_lost, e.flags.face_lost);
  assert.equal(f.speaking, e.flags.speaking);
  assert.equal(f.seq, e.seq);
  assert.equal(f.timestamp_ms, e.timestamp_ms);
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(f.rotation[i] - e.rotation[i]) <= 1e-4 + 1e-9);
  for (let i = 0; i < 52; i++) assert.ok(Math.abs(f.blendshapes[i] - e.blendshapes[i]) <= 1 / 255 + 1e-6);
  if (!e.body) {
    assert.equal(f.body, null);
    return;
  }
  assert.equal(f.body.left_hand, e.body.left_hand);
  assert.equal(f.body.right_hand, e.body.right_hand);
  e.body.bones.forEach((q, b) => q.forEach((c, k) => {
    assert.ok(Math.abs(f.body.bones[4 * b + k] - c) <= 1e-5, `${BODY_BONES[b]}[${k}] ${f.body.bones[4 * b + k]} vs ${c}`);
  }));
  e.body.fingers.forEach((v, i) => assert.ok(Math.abs(f.body.fingers[i] - v) <= 1 / 64 + 1e-9, `finger ${i}`));
}

test("the v2 vector file names the same bones and fingers", () => {
  assert.deepEqual([...BODY_BONES], v2.bone_names);
  assert.deepEqual([...FINGERS], v2.finger_names);
  assert.deepEqual(v2.frame_bytes, [72, FRAME_V2_BODY_BYTES]);
  assert.ok(v2.valid.length >= 3);
});

for (const v of v2.valid) {
  test(`v2 decode ${v.name}`, () => assertDecodesTo(v.hex, v.values));
  test(`v2 encode ${v.name}`, () => assert.equal(toHex(encodeFrame(fields(v.values))), v.hex));
}
for (const v of v2.encode_only) {
  test(`v2 encode only ${v.name}`, () => {
    assert.equal(toHex(encodeFrame(fields(v.values))), v.hex);
    assertDecodesTo(v.hex, v.decoded);
  });
}
for (const v of v2.decode_only) test(`v2 decode only ${v.name}`, () => assertDecodesTo(v.hex, v.values));
for (const v of v2.invalid) {
  test(`v2 reject ${v.name}`, () => {
    assert.throws(() => decodeFrame(fromHex(v.hex)), (err) => err instanceof FrameError && err.code === v.error);
  });
}

test("a body frame with both hands is within the 200-byte goal and reuses a matching buffer", () => {
  const body = createBody();
  body.left_hand = body.right_hand = true;
  const buf = new Uint8Array(FRAME_V2_BODY_BYTES);
  const out = encodeFrame({ version: 2, body }, buf);
  assert.equal(out, buf);
  assert.ok(out.length <= 200);
  assert.equal(encodeFrame({ version: 2 }, buf).length, 72); // no body: a fresh 72-byte frame
});

test("version 1 frames refuse a body; unknown versions refuse to encode", () => {
  assert.throws(() => encodeFrame({ body: createBody() }), RangeError);
  assert.throws(() => encodeFrame({ version: 3 }), RangeError);
  assert.throws(() => encodeFrame({ version: 2, body: { bones: new Float32Array(40), fingers: new Float32Array(40) } }), RangeError);
});
