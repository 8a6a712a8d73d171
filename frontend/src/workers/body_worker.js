// Body or hand landmarks in a (classic) Web Worker: the legacy MediaPipe solutions
// (@mediapipe/pose 0.5, @mediapipe/hands 0.4, Apache-2.0, models in the packages) load their
// wasm with importScripts, which module workers lack, so this entry is bundled as a classic
// script (frontend/build.mjs). One worker per solution: two legacy solutions in one global scope
// share loader globals. Inference on the CPU (XNNPACK): under software GL the GPU path is slower.
//
// Frames are scaled down before the solution sees them (INPUT_WIDTH): the solutions resize every
// image to their models' inputs (pose 256x256, palm detector 192x192) through WebGL, which is
// software GL on machines without a GPU, and a smaller image is cheaper to convert there.
//
// Messages in:  {type:"init", kind:"pose"|"hands", base}   base: URL of the package's files
//               {type:"stream", readable}                  ReadableStream<VideoFrame>
//               {type:"frame", image, ts}                  one ImageBitmap (fallback)
//               {type:"rate", maxFps}                      track at most maxFps (0: paused)
//               {type:"stop"}
// Messages out: {type:"ready"} | {type:"error", code, message}
//               {type:"result", kind, ts, procMs, pose:{world, image, visibility}|null,
//                hands:[{world, image, score}]}   landmarks as [x, y, z] arrays
//               {type:"done"} after a fallback frame
import { nextDue } from "../avatar/pacing.js";
import { scaledBitmap } from "../tracking/frame_copy.js";
import { infoLinesAsInfo } from "../tracking/wasm_log.js";

infoLinesAsInfo();

let solution = null;
let kind = "pose";
let running = false;
let period = 1000 / 15;
let due = 0;
let pending = null; // {resolve} of the frame being processed

// Widths the camera frames are scaled to (height keeps the shape). Pose: its model reads 256x256,
// so 320 wide loses nothing. Hands: the landmark model reads a 224x224 crop around each hand
// from this image, so a hand needs more pixels; 480 keeps a hand at arm's length above 50 px.
const INPUT_WIDTH = { pose: 320, hands: 480 };

const now = () => performance.timeOrigin + performance.now();
const arr = (lms) => (lms || []).map((p) => [p.x, p.y, p.z]);

function onResults(r) {
  const p = pending;
  pending = null;
  if (!p) return;
  const out = { type: "result", kind, ts: p.ts, procMs: now() - p.start, pose: null, hands: [] };
  if (kind === "pose") {
    if (r.poseWorldLandmarks && r.poseWorldLandmarks.length) {
      out.pose = {
        world: arr(r.poseWorldLandmarks),
        image: arr(r.poseLandmarks),
        visibility: r.poseWorldLandmarks.map((q) => (q.visibility === undefined ? 1 : q.visibility)),
      };
    }
  } else {
    const world = r.multiHandWorldLandmarks || [];
    const image = r.multiHandLandmarks || [];
    const handed = r.multiHandedness || [];
    for (let i = 0; i < world.length; i++) {
      out.hands.push({ world: arr(world[i]), image: arr(image[i]), score: handed[i] ? handed[i].score : 0 });
    }
  }
  self.postMessage(out);
  p.resolve();
}

// The solutions' own worker path is broken (it importScripts its .tflite and packed .data files
// as if they were scripts), so they are given their page path instead: a `window` that is this
// worker, a `document` whose <script> elements are importScripts calls and whose <canvas> is an
// OffscreenCanvas (WebGL2 works there).
function pageShim() {
  const body = {
    appendChild(el) {
      try {
        importScripts(el.src);
        el.fire("load");
      } catch (err) {
        el.fire("error");
      }
    },
  };
  self.window = self;
  self.alert = (msg) => self.postMessage({ type: "error", code: "model_failed", message: String(msg) });
  self.document = {
    body,
    createElement(tag) {
      if (tag === "canvas") return new OffscreenCanvas(1, 1);
      const listeners = {};
      return {
        src: "",
        setAttribute(name, value) { this[name] = value; },
        addEventListener(type, fn) { (listeners[type] ||= []).push(fn); },
        fire(type) { (listeners[type] || []).forEach((fn) => fn()); },
      };
    },
  };
}

async function init({ kind: k, base }) {
  kind = k === "hands" ? "hands" : "pose";
  const root = base.endsWith("/") ? base : `${base}/`;
  pageShim();
  importScripts(`${root}${kind}.js`);
  const Ctor = kind === "pose" ? self.Pose : self.Hands;
  if (typeof Ctor !== "function") throw new Error(`${kind} solution did not load`);
  solution = new Ctor({ locateFile: (file) => `${root}${file}` });
  solution.setOptions(kind === "pose"
    ? { modelComplexity: 0, smoothLandmarks: false, enableSegmentation: false, minDetectionConfidence: 0.5, minTrackingConfidence: 0.5, useCpuInference: true }
    : { modelComplexity: 0, maxNumHands: 2, minDetectionConfidence: 0.5, minTrackingConfidence: 0.5, useCpuInference: true });
  solution.onResults(onResults);
  await solution.initialize();
}

async function track(image, ts) {
  await new Promise((resolve) => {
    pending = { resolve, ts, start: now() };
    solution.send({ image }).catch(() => resolve());
  });
}

async function readStream(readable) {
  const reader = readable.getReader();
  running = true;
  while (running) {
    const { value: frame, done } = await reader.read();
    if (done) break;
    const t = now();
    const d = period > 0 ? nextDue(t, due, period) : null;
    if (d === null) {
      frame.close();
      continue;
    }
    due = d;
    const ts = t; // read time: the stream holds one frame at most, so it is within a frame of capture
    // Copied and closed at once: a held frame stalls the face tracker's camera too (frame_copy.js).
    const bitmap = await scaledBitmap(frame, INPUT_WIDTH[kind]);
    if (!bitmap) continue;
    try {
      await track(bitmap, ts);
    } catch (err) {
      self.postMessage({ type: "error", code: "tracking_failed", message: String(err && err.message || err) });
    } finally {
      bitmap.close();
    }
  }
  reader.releaseLock();
}

self.onmessage = async (e) => {
  const m = e.data;
  try {
    if (m.type === "init") {
      await init(m);
      self.postMessage({ type: "ready" });
    } else if (m.type === "rate") {
      period = m.maxFps > 0 ? 1000 / m.maxFps : 0;
    } else if (m.type === "stream") {
      readStream(m.readable);
    } else if (m.type === "frame") {
      if (period > 0) await track(m.image, m.ts);
      m.image.close();
      self.postMessage({ type: "done" });
    } else if (m.type === "stop") {
      running = false;
      if (solution) solution.close();
    }
  } catch (err) {
    self.postMessage({ type: "error", code: m.type === "init" ? "model_failed" : "tracking_failed", message: String(err && err.message || err) });
  }
};
