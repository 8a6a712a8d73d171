// The viewer's loader under Node: the three fixtures parse with three-vrm, and the expression
// names three-vrm exposes are the server's normalized vocabulary (characters/avatars/formats/vrm_meta.py).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import "./fakes/node_image.mjs";
const { parseVrm, expressionNamesOf } = await import("../src/viewer/vrm_viewer.js");

const fixtures = new URL("../../../shared/fixtures/vrm/", import.meta.url);
function load(name) {
  const buf = readFileSync(new URL(name, fixtures));
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
}

test("Godette (VRM 0.x): 45 bones, presets mapped to VRM 1.0 names", async () => {
  const { vrm } = await parseVrm(load("Godette_vrm_v4.vrm"));
  assert.equal(vrm.meta.metaVersion, "0");
  assert.equal(Object.keys(vrm.humanoid.humanBones).length, 45);
  assert.deepEqual(
    new Set(expressionNamesOf(vrm)),
    new Set(["neutral", "aa", "ih", "ou", "ee", "oh", "blink", "happy", "angry", "sad", "relaxed",
      "lookUp", "lookDown", "lookLeft", "lookRight", "blinkLeft", "blinkRight"]),
  );
});

test("debug robot (VRM 1.0): 53 bones, 18 expressions", async () => {
  const { vrm } = await parseVrm(load("debug_robot.vrm"));
  assert.equal(vrm.meta.metaVersion, "1");
  assert.equal(Object.keys(vrm.humanoid.humanBones).length, 53);
  assert.equal(expressionNamesOf(vrm).length, 18);
});

test("sphere (VRM 0.x, partial bones): no expressions", async () => {
  const { vrm } = await parseVrm(load("sphere.vrm"));
  assert.equal(Object.keys(vrm.humanoid.humanBones).length, 22);
  assert.deepEqual(expressionNamesOf(vrm), []);
});
