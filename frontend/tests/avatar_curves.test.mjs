// Actor curves and shortcut keys: the same results as characters/avatars/actor_settings.py.
import { test } from "node:test";
import assert from "node:assert/strict";
import { applyCurve, applySettings, keyFromEvent, normalizeKey, sensitivityGroup } from "../src/viewer/curves.js";

test("the seed's example: an input of 0.4 already gives 0.8", () => {
  const curve = { inMin: 0, inMax: 0.5, outMin: 0, outMax: 1, gamma: 1 };
  assert.ok(Math.abs(applyCurve(0.4, curve) - 0.8) < 1e-9);
  assert.equal(applyCurve(0.9, curve), 1);
  assert.equal(applyCurve(-1, curve), 0);
});

test("gamma shapes the curve", () => {
  const curve = { inMin: 0, inMax: 1, outMin: 0, outMax: 1, gamma: 2 };
  assert.equal(applyCurve(0.5, curve), 0.25);
});

test("sensitivity groups and settings", () => {
  assert.equal(sensitivityGroup("eyeLookUpLeft"), "gaze");
  assert.equal(sensitivityGroup("browInnerUp"), "eyebrows");
  assert.equal(sensitivityGroup("jawOpen"), "mouth");
  assert.equal(sensitivityGroup("eyeBlinkLeft"), null);
  const out = applySettings(
    { jawOpen: 0.4, eyeBlinkLeft: 0.5, browInnerUp: 1 },
    { sensitivity: { mouth: 0.5, eyebrows: 0 }, curves: { jawOpen: { inMin: 0, inMax: 0.5, outMin: 0, outMax: 1 } } },
  );
  assert.ok(Math.abs(out.jawOpen - 0.4) < 1e-9);
  assert.equal(out.eyeBlinkLeft, 0.5);
  assert.equal(out.browInnerUp, 0);
});

test("shortcut keys", () => {
  assert.equal(keyFromEvent({ code: "Digit1", key: "1", ctrlKey: true }), "Ctrl+1");
  assert.equal(keyFromEvent({ code: "KeyA", key: "A", shiftKey: true, altKey: true }), "Alt+Shift+A");
  assert.equal(keyFromEvent({ code: "F5", key: "F5" }), "F5");
  assert.equal(keyFromEvent({ code: "Numpad3", key: "3" }), "Numpad3");
  assert.equal(keyFromEvent({ code: "Enter", key: "Enter" }), null);
  assert.equal(normalizeKey("shift+ctrl+a"), "Ctrl+Shift+A");
  assert.equal(normalizeKey("numpad5"), "Numpad5");
});
