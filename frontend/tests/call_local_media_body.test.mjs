// LocalMedia and adaptive quality's body rate: 0 pauses the body trackers, it does not stop them,
// so bringing them back costs no model reload (a reload starved the face tracker for two seconds,
// which made the face short and turned the body off again at once).
import { test } from "node:test";
import assert from "node:assert/strict";

globalThis.localStorage = { getItem: () => null, setItem: () => {}, removeItem: () => {} };
const { LocalMedia } = await import("../src/call/local_media.js");

function media() {
  const pipeline = { settings: { bodyTracking: true, handTracking: true }, params: { hasBody: true } };
  const m = new LocalMedia({ ui: {}, tracker: {}, pipeline, stats: {}, trackRate: {}, onParams() {} });
  const rates = [];
  m.body = { ready: true, setRate: (hz) => rates.push(hz), stop: () => rates.push("stopped") };
  let refreshed = 0;
  m.refreshBodyTracking = async () => { refreshed += 1; };
  return { m, pipeline, rates, refreshed: () => refreshed };
}

test("rate 0 pauses the running body trackers and relaxes the arms; a rate brings the same ones back", () => {
  const { m, pipeline, rates, refreshed } = media();
  m.setBodyRate(8);
  m.setBodyRate(0);
  assert.equal(pipeline.params.hasBody, false);
  const body = m.body;
  m.setBodyRate(8);
  assert.deepEqual(rates, [8, 0, 8]); // never "stopped"
  assert.equal(m.body, body);
  assert.equal(refreshed(), 0);
});

test("without running trackers, a rate above 0 starts them", () => {
  const { m, refreshed } = media();
  m.body = null;
  m.setBodyRate(0);
  assert.equal(refreshed(), 0);
  m.setBodyRate(8);
  assert.equal(refreshed(), 1);
});
