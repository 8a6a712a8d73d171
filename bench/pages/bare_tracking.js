// bench/browser_call.py's bare tracking page: the call's own FaceTracker (the same worker bundle,
// model, CPU delegate, camera constraints and stream mode) alone in a page, nothing else running.
// ?w=&h= is the input size the call starts with (the first quality level). Counters on window.__bare.
import { FaceTracker, openCamera } from "../../frontend/src/tracking/tracker.js";

const q = new URLSearchParams(location.search);
const bare = { ready: false, error: null, results: 0, faces: 0, procMs: 0, input: null, mode: null };
window.__bare = bare;

try {
  const stream = await openCamera();
  const tracker = new FaceTracker({
    workerUrl: "/dist/face_worker.js", modelUrl: "/dist/models/face_landmarker.task", wasmBase: "/dist/mediapipe/",
    onResult: (r) => {
      bare.results += 1;
      if (r.found) bare.faces += 1;
      bare.procMs += r.procMs || 0;
      bare.input = [r.width, r.height];
    },
    onError: (err) => (bare.error = String(err && err.message || err)),
  });
  await tracker.setQuality({ inputWidth: Number(q.get("w")), inputHeight: Number(q.get("h")), trackFps: Number(q.get("fps")) });
  await tracker.start(stream);
  bare.mode = tracker.mode;
  bare.ready = true;
} catch (err) {
  bare.error = String(err && err.message || err);
}
