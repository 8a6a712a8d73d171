// A slow reader gives camera frames back before its slow work (frame_copy.js): the frame is
// closed before the resize starts wherever copyTo converts, and in every case once it returns.
import { test } from "node:test";
import assert from "node:assert/strict";
import { scaledBitmap } from "../src/tracking/frame_copy.js";

class FakeFrame {
  constructor({ width = 640, height = 480, converts = true, display = null } = {}) {
    this.displayWidth = display ? display[0] : width;
    this.displayHeight = display ? display[1] : height;
    this.visibleRect = { x: 0, y: 0, width, height };
    this.converts = converts;
    this.closed = 0;
  }
  allocationSize({ format }) {
    assert.equal(format, "RGBA");
    return this.visibleRect.width * this.visibleRect.height * 4;
  }
  async copyTo(dest, { format }) {
    if (!this.converts) throw new TypeError("format conversion is not supported");
    assert.equal(format, "RGBA");
    dest.fill(7);
  }
  close() {
    this.closed += 1;
  }
}

class FakeImageData {
  constructor(data, width, height) {
    Object.assign(this, { data, width, height });
  }
}

function env(log) {
  return {
    ImageData: FakeImageData,
    async createImageBitmap(source, size) {
      log.push({ source, size, frameClosed: source instanceof FakeFrame ? source.closed > 0 : null });
      return { width: size.resizeWidth ?? source.width ?? source.displayWidth };
    },
  };
}

test("the frame is copied as RGBA and closed before the resize", async () => {
  const frame = new FakeFrame();
  const log = [];
  const e = env(log);
  const resize = e.createImageBitmap;
  e.createImageBitmap = async (source, size) => {
    assert.ok(frame.closed > 0, "closed before the resize starts");
    return resize(source, size);
  };
  const bitmap = await scaledBitmap(frame, 320, e);
  assert.equal(bitmap.width, 320);
  assert.ok(log[0].source instanceof FakeImageData);
  assert.equal(log[0].source.width, 640);
  assert.equal(log[0].source.data[0], 7);
  assert.deepEqual(log[0].size, { resizeWidth: 320, resizeHeight: 240, resizeQuality: "low" });
});

test("a frame no wider than the target keeps its size", async () => {
  const log = [];
  await scaledBitmap(new FakeFrame({ width: 320, height: 240 }), 480, env(log));
  assert.deepEqual(log[0].size, {});
});

test("without copyTo's conversion the frame itself is resized, and closed afterwards", async () => {
  const frame = new FakeFrame({ converts: false });
  const log = [];
  const bitmap = await scaledBitmap(frame, 320, env(log));
  assert.equal(bitmap.width, 320);
  assert.equal(log[0].source, frame);
  assert.equal(log[0].frameClosed, false);
  assert.ok(frame.closed > 0);
});

test("a resize that fails gives null and the frame is still closed", async () => {
  const frame = new FakeFrame();
  const bitmap = await scaledBitmap(frame, 320, {
    ImageData: FakeImageData,
    createImageBitmap: async () => { throw new Error("out of memory"); },
  });
  assert.equal(bitmap, null);
  assert.ok(frame.closed > 0);
});

test("a frame of a scaling track: the whole picture is copied, then scaled to the track's size", async () => {
  // Adaptive quality's smaller face input: the camera's 640x480 shown as 400x300.
  const log = [];
  const bitmap = await scaledBitmap(new FakeFrame({ display: [400, 300] }), 400, env(log));
  assert.equal(log[0].source.width, 640);
  assert.deepEqual(log[0].size, { resizeWidth: 400, resizeHeight: 300, resizeQuality: "low" });
  assert.equal(bitmap.width, 400);
  // A body tracker's wider target is still bounded by the track's size.
  const more = [];
  await scaledBitmap(new FakeFrame({ display: [400, 300] }), 480, env(more));
  assert.deepEqual(more[0].size, { resizeWidth: 400, resizeHeight: 300, resizeQuality: "low" });
});
