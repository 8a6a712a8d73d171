// call/remote_avatar.js: which avatar is shown for the other side's description (built-in 2D,
// our own bytes in practice, or asked for over the asset channel when not cached), and the
// frames that drive it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createParams, frameFields } from "../src/avatar/params.js";
import { encodeFrame } from "../src/call/frame_codec.js";
import { RemoteAvatar, cleanExpressions } from "../src/call/remote_avatar.js";
import { SampleBuffer } from "../src/call/stats.js";

globalThis.window ??= {}; // a page without Cache Storage: nothing is cached

const HASH = "ab".repeat(32);

function setup({ own = null } = {}) {
  const calls = [];
  const view = {
    kind: "2d",
    show2d(key) { calls.push(["show2d", key]); this.kind = "2d"; },
    async showVrm(buf) { calls.push(["showVrm", new Uint8Array(buf)[0], buf.byteLength]); this.kind = "vrm"; },
  };
  const ui = {
    t: { loading_avatar: "Loading…" },
    assetPending: false,
    overlays: [],
    licenses: [],
    setRemoteOverlay(text) { this.overlays.push(text); },
    renderLicense(a) { this.licenses.push(a); },
    updateOverlay() { this.overlays.push("<state>"); },
  };
  const sent = [];
  const stats = { framesReceived: 0, faceFramesReceived: 0, frameBytes: 0, recvRoll: new SampleBuffer(), recvSmile: new SampleBuffer(), recvJaw: new SampleBuffer(), arrival: new SampleBuffer() };
  // A synced clock: a frame stamped 1001 arrived 11 ms after its capture.
  const clock = { synced: true, ageOf: (ts) => ts - 990 };
  const remote = new RemoteAvatar({ ui, clock, stats, sendControl: (m) => sent.push(m), ownVrm: () => own });
  remote.attach(view);
  calls.length = 0;
  return { remote, view, ui, sent, stats, calls };
}

test("no description or a built-in one shows that 2D character (unknown ids fall back to the robot)", async () => {
  const { remote, calls, ui, sent } = setup();
  await remote.show({ renderer: "2d", id: "builtin:fox", name: "Fox", license: null });
  await remote.show({ renderer: "2d", id: "<script>", name: "x", license: null });
  await remote.show(null);
  assert.deepEqual(calls, [["show2d", "builtin:fox"], ["show2d", "builtin:robot"], ["show2d", "builtin:robot"]]);
  assert.equal(ui.licenses.length, 3);
  assert.deepEqual(sent, []);
});

test("a VRM we hold (practice mirrors our own avatar) is shown from our bytes without asking", async () => {
  const bytes = new Uint8Array([7, 1, 2, 3]).buffer;
  const { remote, calls, sent, stats } = setup({ own: { hash: HASH, buffer: bytes } });
  await remote.show({ renderer: "vrm", fileHash: HASH, id: "1", name: "Me", license: { name: "CC0" } });
  assert.deepEqual(calls, [["showVrm", 7, 4]]);
  assert.deepEqual(sent, []);
  assert.equal(stats.remoteKind, "vrm");
  assert.equal(bytes.byteLength, 4); // a copy went to the renderer, ours is intact
});

test("a VRM nobody has here is asked for once, again on a new channel, and shown when it arrives", async () => {
  const { remote, calls, sent, ui } = setup();
  await remote.show({ renderer: "vrm", fileHash: HASH, id: "9", name: "Theirs", license: null });
  assert.deepEqual(sent, [{ t: "asset_req", hash: HASH }]);
  assert.equal(ui.assetPending, true);
  assert.deepEqual(ui.overlays, ["Loading…"]);
  assert.deepEqual(calls, []);
  remote.requestPending();
  assert.equal(sent.length, 2);
  remote.onAsset("cd".repeat(32), new Uint8Array([1]).buffer); // not the one announced
  assert.deepEqual(calls, []);
  remote.onAsset(HASH, new Uint8Array([5, 5]).buffer);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(calls, [["showVrm", 5, 2]]);
  assert.equal(ui.assetPending, false);
  assert.equal(remote.pendingAsset, null);
  remote.requestPending();
  assert.equal(sent.length, 2);
});

test("frames are counted and sampled; anything but an ArrayBuffer of a valid frame is ignored", () => {
  const { remote, stats } = setup();
  const p = createParams();
  p.rotation[2] = 0.25;
  const frame = (seq, faceLost) => {
    p.faceLost = faceLost;
    return encodeFrame(frameFields(p, seq, 1000 + seq)).slice().buffer;
  };
  remote.onFrame(frame(1, false));
  remote.onFrame(frame(2, true));
  remote.onFrame(frame(2, false)); // not newer than the last: dropped
  remote.onFrame("text");
  remote.onFrame(new ArrayBuffer(10));
  assert.equal(stats.framesReceived, 2);
  assert.equal(stats.faceFramesReceived, 1);
  assert.equal(stats.frameBytes, 72);
  assert.deepEqual(stats.recvRoll.values, [[1001, 0.25], [1002, 0.25]]);
  assert.deepEqual(stats.arrival.values, [11, 12]); // capture -> arrival of each accepted frame
});

test("held expressions from the other side are clamped and bounded", () => {
  const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`e${i}`, 0.5]));
  assert.equal(Object.keys(cleanExpressions(many)).length, 32);
  assert.deepEqual(cleanExpressions({ happy: 2, sad: -1, aa: 0.3, bad: "1", [`${"x".repeat(65)}`]: 1 }), { happy: 1, sad: 0, aa: 0.3 });
  assert.deepEqual(cleanExpressions(null), {});
});
