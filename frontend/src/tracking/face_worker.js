// Face tracking in a Web Worker: MediaPipe FaceLandmarker (CPU delegate: the GPU delegate runs at
// ~4.5 fps under software GL) turns camera frames into 52 blendshape scores and the facial
// transformation matrix. Running it here keeps the page's render loop free (tracking and a VRM
// render in one animation-frame loop managed ~9 fps on two cores).
//
// Messages in:  {type:"init", modelUrl, wasmBase}
//               {type:"stream", readable}       a ReadableStream<VideoFrame> (MediaStreamTrackProcessor)
//               {type:"frame", image, ts}       one ImageBitmap (fallback when streams can't be transferred)
//               {type:"rate", maxFps}           skip frames to track at most maxFps (adaptive quality)
//               {type:"stop"}
// Messages out: {type:"ready"} | {type:"error", code, message}
//               {type:"result", ts, found, blendshapes:Float32Array(52), matrix:Float32Array(16), procMs, queueMs,
//                width, height}
//               ts: the camera frame's capture time (performance.timeOrigin + performance.now() clock)
//               procMs: detectForVideo's duration; queueMs: how long the frame waited before it;
//               width x height: the image given to the tracker (the page may ask the camera for less)
//               {type:"done"} after a fallback frame was processed (the page sends the next one)
import { FaceLandmarker } from "@mediapipe/tasks-vision";
import { nextDue } from "../avatar/pacing.js";
import { BLENDSHAPE_COUNT, BLENDSHAPE_NAMES } from "../call/frame_codec.js";
import { copyRgba, scaledBitmap } from "./frame_copy.js";
import { infoLinesAsInfo } from "./wasm_log.js";

infoLinesAsInfo();

const INDEX = new Map(BLENDSHAPE_NAMES.map((n, i) => [n, i]));
let landmarker = null;
let running = false;
let lastVideoTs = -1;
let hadFace = false; // the previous result found a face (MediaPipe was tracking it)
let period = 0; // ms between tracked frames under the rate cap (0: every frame)
let due = 0;

const now = () => performance.timeOrigin + performance.now(); // ms, comparable across the page and workers

// VideoFrame.timestamp (µs) is the capture time on the browser's own monotonic clock. Its offset
// to ours is the smallest (read time - capture time) seen: a frame read while the tracker was
// waiting for it has waited ~0 ms. Latency figures then start at capture, including the time a
// frame waited while the tracker was busy with the one before.
let clockOffset = null;

function captureTime(frame, readAt) {
  const ts = frame.timestamp / 1000;
  if (!Number.isFinite(ts) || ts <= 0) return readAt;
  const d = readAt - ts;
  if (clockOffset === null || d < clockOffset) clockOffset = d;
  const t = ts + clockOffset;
  // A timestamp that doesn't run in real time (some virtual cameras): fall back to the read time.
  return readAt - t > 1000 ? readAt : t;
}

async function init({ modelUrl, wasmBase }) {
  const base = wasmBase.endsWith("/") ? wasmBase : `${wasmBase}/`;
  // The "module" build of the wasm loader is an ES module, which a module worker can import().
  const fileset = {
    wasmLoaderPath: `${base}vision_wasm_module_internal.js`,
    wasmBinaryPath: `${base}vision_wasm_module_internal.wasm`,
  };
  landmarker = await FaceLandmarker.createFromOptions(fileset, {
    baseOptions: { modelAssetPath: modelUrl, delegate: "CPU" },
    runningMode: "VIDEO",
    numFaces: 1,
    outputFaceBlendshapes: true,
    outputFacialTransformationMatrixes: true,
  });
}

function videoTs() {
  // detectForVideo needs strictly increasing timestamps.
  let ts = performance.now();
  if (ts <= lastVideoTs) ts = lastVideoTs + 0.01;
  lastVideoTs = ts;
  return ts;
}

/** The first face's blendshapes and transform, or null when the result has none. */
function faceOf(res) {
  const cats = res.faceBlendshapes && res.faceBlendshapes[0] && res.faceBlendshapes[0].categories;
  const mat = res.facialTransformationMatrixes && res.facialTransformationMatrixes[0];
  return cats && cats.length && mat ? { cats, mat } : null;
}

function detect(image, captureTs, queueMs = 0) {
  const t0 = performance.now();
  let face = faceOf(landmarker.detectForVideo(image, videoTs()));
  if (!face && hadFace) {
    // In VIDEO mode MediaPipe follows the last frame's face instead of searching; on a slow
    // tracker the face has moved far between frames and the follow fails. Searching this same
    // frame again runs the face detector, which finds it: one more inference, only on a miss.
    face = faceOf(landmarker.detectForVideo(image, videoTs()));
  }
  const found = face !== null;
  hadFace = found;
  const procMs = performance.now() - t0;
  const width = image.displayWidth || image.width || 0;
  const height = image.displayHeight || image.height || 0;
  const blendshapes = new Float32Array(BLENDSHAPE_COUNT);
  const matrix = new Float32Array(16);
  if (found) {
    for (const c of face.cats) {
      const i = INDEX.get(c.categoryName);
      if (i !== undefined) blendshapes[i] = c.score;
    }
    for (let i = 0; i < 16; i++) matrix[i] = face.mat.data[i];
  }
  self.postMessage(
    { type: "result", ts: captureTs, found, blendshapes, matrix, procMs, queueMs, width, height },
    [blendshapes.buffer, matrix.buffer],
  );
}

async function pump(readable) {
  const reader = readable.getReader();
  running = true;
  try {
    while (running) {
      // maxBufferSize 1 upstream: this is the newest frame; older ones were dropped, not queued.
      const { value: frame, done } = await reader.read();
      if (done) break;
      const readAt = now();
      const captureTs = captureTime(frame, readAt);
      // Under a rate cap, frames come faster than they are tracked: skipped ones are only closed.
      const next = period ? nextDue(captureTs, due, period) : 0;
      try {
        if (next === null) continue;
        due = next;
        if (!landmarker || !running) continue;
        // Copied and closed before detection, so the camera can capture the next frame meanwhile
        // (frame_copy.js). When the track scales its frames (adaptive quality's smaller input),
        // copyTo copies the camera's whole picture: that copy is scaled to the track's size
        // (tracking the scaled frame itself held it through detection, and was slower: 20
        // against 17 ms a frame at 480x360). A frame copyTo cannot convert is tracked itself.
        const unscaled = frame.visibleRect && frame.visibleRect.width === frame.displayWidth
          && frame.visibleRect.height === frame.displayHeight;
        const image = unscaled ? await copyRgba(frame) : await scaledBitmap(frame, frame.displayWidth);
        if (image) frame.close();
        else if (!unscaled) continue; // scaledBitmap closed the frame it could not convert
        try {
          detect(image || frame, captureTs, readAt - captureTs);
        } finally {
          if (image && image.close) image.close(); // an ImageBitmap; ImageData needs none
        }
      } finally {
        frame.close();
      }
    }
  } catch (err) {
    self.postMessage({ type: "error", code: "tracking_failed", message: String(err && err.message || err) });
  } finally {
    reader.releaseLock();
    self.postMessage({ type: "stopped" });
  }
}

self.onmessage = async (event) => {
  const msg = event.data || {};
  try {
    if (msg.type === "init") {
      await init(msg);
      self.postMessage({ type: "ready" });
    } else if (msg.type === "stream") {
      pump(msg.readable);
    } else if (msg.type === "frame") {
      try {
        if (landmarker) detect(msg.image, msg.ts, now() - msg.ts);
      } finally {
        if (msg.image && msg.image.close) msg.image.close();
        self.postMessage({ type: "done" });
      }
    } else if (msg.type === "rate") {
      period = msg.maxFps > 0 ? 1000 / msg.maxFps : 0;
    } else if (msg.type === "stop") {
      running = false;
    }
  } catch (err) {
    self.postMessage({ type: "error", code: msg.type === "init" ? "model_failed" : "tracking_failed", message: String(err && err.message || err) });
  }
};
