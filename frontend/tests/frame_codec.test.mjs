// The JS frame codec must agree with rooms/protocol.py byte for byte: both pass the vectors in
// docs/protocol.vectors.json (decode(hex) == values within quantization, encode(values) == hex).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  BLENDSHAPE_COUNT, BLENDSHAPE_NAMES, BS, FRAME_BYTES, FrameError, decodeFrame, encodeFrame, fromHex,
  isNewerSeq, toHex, wireTimestamp,
} from "../src/call/frame_codec.js";

const vectorsPath = new URL("../../docs/protocol.vectors.json", import.meta.url);
const raw = JSON.parse(readFileSync(vectorsPath, "utf8"));
// Groups: valid (both directions), encode_only (encode == hex, decode(hex) == decoded),
// decode_only (decode == values), invalid (decode fails with error).
const valid = raw.valid || [];
const encodeOnly = raw.encode_only || [];
const decodeOnly = raw.decode_only || [];
const invalid = raw.invalid || [];

test("the vector file has valid and invalid cases", () => {
  assert.ok(valid.length >= 3, "expected at least three valid vectors");
  assert.ok(invalid.some((v) => v.error === "bad_length"));
  assert.ok(invalid.some((v) => v.error === "bad_version"));
});

function assertDecodesTo(hex, e) {
  const f = decodeFrame(fromHex(hex));
  assert.equal(f.version, e.version);
  assert.equal(f.flags.face_lost, e.flags.face_lost);
  assert.equal(f.flags.speaking, e.flags.speaking);
  assert.equal(f.seq, e.seq);
  assert.equal(f.timestamp_ms, e.timestamp_ms);
  for (let i = 0; i < 3; i++) {
    assert.ok(Math.abs(f.rotation[i] - e.rotation[i]) <= 1e-4 + 1e-9, `rotation[${i}]`);
    assert.ok(Math.abs(f.position[i] - e.position[i]) <= 0.01 + 1e-9, `position[${i}]`);
  }
  assert.equal(f.blendshapes.length, BLENDSHAPE_COUNT);
  for (let i = 0; i < BLENDSHAPE_COUNT; i++) {
    assert.ok(Math.abs(f.blendshapes[i] - e.blendshapes[i]) <= 1 / 255 + 1e-6, `blendshape ${BLENDSHAPE_NAMES[i]}`);
  }
}

function assertEncodesTo(e, hex) {
  const bytes = encodeFrame({ ...e, face_lost: e.flags.face_lost, speaking: e.flags.speaking });
  assert.equal(bytes.length, FRAME_BYTES);
  assert.equal(toHex(bytes), hex.toLowerCase());
}

test("the blendshape order matches the vector file", () => {
  if (raw.blendshape_names) assert.deepEqual([...BLENDSHAPE_NAMES], raw.blendshape_names);
  assert.equal(raw.frame_bytes ?? FRAME_BYTES, FRAME_BYTES);
});

for (const v of valid) {
  test(`decode ${v.name}`, () => assertDecodesTo(v.hex, v.values));
  test(`encode ${v.name}`, () => assertEncodesTo(v.values, v.hex));
}
for (const v of encodeOnly) {
  test(`encode only ${v.name}`, () => {
    assertEncodesTo(v.values, v.hex);
    if (v.decoded) assertDecodesTo(v.hex, v.decoded);
  });
}
for (const v of decodeOnly) {
  test(`decode only ${v.name}`, () => assertDecodesTo(v.hex, v.values));
}

for (const v of invalid) {
  test(`reject ${v.name}`, () => {
    assert.throws(() => decodeFrame(fromHex(v.hex)), (err) => err instanceof FrameError && err.code === v.error);
  });
}

test("round trip keeps values within quantization and clamps out-of-range input", () => {
  const blendshapes = Array.from({ length: 52 }, (_, i) => i / 51);
  blendshapes[3] = 1.7; // clamps to 1
  blendshapes[4] = -0.2; // clamps to 0
  const bytes = encodeFrame({
    seq: 65537, timestamp_ms: 2 ** 32 + 5, rotation: [0.2094, -0.5, 4], position: [1.234, -400, 0],
    blendshapes, speaking: true,
  });
  const f = decodeFrame(bytes);
  assert.equal(f.seq, 1);
  assert.equal(f.timestamp_ms, 5);
  assert.equal(f.speaking, true);
  assert.equal(f.face_lost, false);
  assert.equal(f.rotation[0], 0.2094);
  assert.equal(f.rotation[2], 3.2767);
  assert.equal(f.position[0], 1.23);
  assert.equal(f.position[1], -327.67);
  assert.equal(f.blendshapes[3], 1);
  assert.equal(f.blendshapes[4], 0);
  assert.ok(Math.abs(f.blendshapes[BS.jawOpen] - 25 / 51) <= 1 / 255);
});

test("decoding ignores unknown flag bits and reuses no state", () => {
  const bytes = encodeFrame({ face_lost: true });
  bytes[1] |= 0b1111_1100;
  const f = decodeFrame(bytes.buffer);
  assert.equal(f.face_lost, true);
  assert.equal(f.speaking, false);
});

test("sequence comparison wraps", () => {
  assert.ok(isNewerSeq(1, 0));
  assert.ok(isNewerSeq(0, 65535));
  assert.ok(isNewerSeq(10, 65530));
  assert.ok(!isNewerSeq(5, 5));
  assert.ok(!isNewerSeq(4, 5));
  assert.ok(!isNewerSeq(65530, 10));
});

test("wireTimestamp is the timestamp the decoder reads back, for fractional capture times too", () => {
  // performance.now() timestamps are fractional; the sender's roll log keys on wireTimestamp, so it
  // must agree with what decodeFrame returns (Math.round would disagree for every .5 and above).
  for (const ms of [0, 1234.2, 1234.5, 1234.9, 4294967295.7, 4294967296 + 17.6]) {
    const back = decodeFrame(encodeFrame({ timestamp_ms: ms })).timestamp_ms;
    assert.equal(wireTimestamp(ms), back, String(ms));
  }
});
