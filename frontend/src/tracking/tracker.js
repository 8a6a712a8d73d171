// Main-thread side of face tracking: opens the camera, hands frames to the worker
// (face_worker.js) and reports raw results. The camera image never leaves this page: frames go
// to the worker and are closed there; only numbers come back.
import { nextDue } from "../avatar/pacing.js";

/** Errors a person can act on; `code` picks the translated message on the call page. */
export class TrackerError extends Error {
  constructor(code, message) {
    super(message || code);
    this.name = "TrackerError";
    this.code = code; // camera_denied | no_camera | camera_busy | model_failed | tracking_failed | unsupported
  }
}

// What the camera is asked for (and the tracker's input at full quality).
export const CAMERA_WIDTH = 640;
export const CAMERA_HEIGHT = 480;
export const CAMERA_FPS = 30;

/**
 * Open the camera (no audio here: the microphone is opened separately for the call).
 * `deviceId`: a camera chosen in the picker; when it is gone (unplugged, another browser profile)
 * the default camera is opened instead.
 */
export async function openCamera(deviceId = "") {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new TrackerError("unsupported", "getUserMedia is not available (needs HTTPS or localhost)");
  }
  const video = { width: { ideal: CAMERA_WIDTH }, height: { ideal: CAMERA_HEIGHT }, frameRate: { ideal: CAMERA_FPS }, facingMode: "user" };
  try {
    if (deviceId) {
      try {
        return await navigator.mediaDevices.getUserMedia({ video: { ...video, facingMode: undefined, deviceId: { exact: deviceId } }, audio: false });
      } catch (err) {
        if (!err || (err.name !== "OverconstrainedError" && err.name !== "NotFoundError")) throw err;
      }
    }
    return await navigator.mediaDevices.getUserMedia({ video, audio: false });
  } catch (err) {
    const name = err && err.name;
    if (name === "NotAllowedError" || name === "SecurityError") throw new TrackerError("camera_denied", String(err.message));
    if (name === "NotFoundError" || name === "OverconstrainedError") throw new TrackerError("no_camera", String(err.message));
    if (name === "NotReadableError" || name === "AbortError") throw new TrackerError("camera_busy", String(err.message));
    throw new TrackerError("no_camera", String(err && err.message || err));
  }
}

/**
 * Runs FaceLandmarker on a camera stream in a worker.
 * onResult({ts, found, blendshapes, matrix, procMs, queueMs, width, height}) is called for every
 * processed frame; ts is the capture time in ms (performance.timeOrigin + performance.now());
 * width x height: the image the tracker was given.
 *
 * setQuality({inputWidth, inputHeight, trackFps}) changes the input size and rate while it runs
 * (adaptive quality): the camera track is asked for the smaller size, which Chromium scales
 * before the frame reaches the worker (the camera itself keeps running as it was, no restart),
 * and the worker skips frames to hold the rate.
 */
export class FaceTracker {
  constructor({ workerUrl, modelUrl, wasmBase, onResult, onError }) {
    this.workerUrl = workerUrl;
    this.modelUrl = new URL(modelUrl, location.href).href;
    this.wasmBase = new URL(wasmBase, location.href).href;
    this.onResult = onResult;
    this.onError = onError || (() => {});
    this.worker = null;
    this.stream = null;
    this.mode = "none"; // "stream" (frames read in the worker) | "bitmap" (page posts ImageBitmaps)
    this._stopped = false;
    this._video = null;
    this.quality = { inputWidth: CAMERA_WIDTH, inputHeight: CAMERA_HEIGHT, trackFps: CAMERA_FPS };
    this._due = 0; // bitmap mode: pacing of frames under the rate cap
  }

  /** The tracker's input size and rate cap; applied now if running, else when it starts. */
  async setQuality({ inputWidth, inputHeight, trackFps }) {
    const q = { inputWidth, inputHeight, trackFps };
    const same = this.quality.inputWidth === q.inputWidth && this.quality.inputHeight === q.inputHeight;
    this.quality = q;
    if (this.worker) this.worker.postMessage({ type: "rate", maxFps: this._rateCap() });
    if (!same) await this._applySize();
  }

  /** The worker's rate cap; 0 (none) at the camera's own rate, where pacing would only drop frames that jitter. */
  _rateCap() {
    const fps = this.quality.trackFps;
    return fps > 0 && fps < CAMERA_FPS ? fps : 0;
  }

  async _applySize() {
    const track = this.stream && this.stream.getVideoTracks()[0];
    if (!track || !track.applyConstraints) return;
    const { inputWidth, inputHeight } = this.quality;
    try {
      await track.applyConstraints({
        width: { ideal: inputWidth }, height: { ideal: inputHeight }, frameRate: { ideal: CAMERA_FPS },
        resizeMode: "crop-and-scale",
      });
    } catch (err) {
      console.warn("the camera refused a smaller size; tracking keeps the current one", err);
    }
  }

  async start(stream) {
    this.stream = stream;
    this._stopped = false;
    const worker = new Worker(this.workerUrl, { type: "module", name: "face-tracker" });
    this.worker = worker;
    await new Promise((resolve, reject) => {
      worker.onmessage = (e) => {
        if (e.data.type === "ready") resolve();
        else if (e.data.type === "error") reject(new TrackerError(e.data.code, e.data.message));
      };
      worker.onerror = (e) => reject(new TrackerError("model_failed", e.message || "worker failed to start"));
      worker.postMessage({ type: "init", modelUrl: this.modelUrl, wasmBase: this.wasmBase });
    });
    worker.onmessage = (e) => this._onMessage(e.data);
    worker.onerror = (e) => this.onError(new TrackerError("tracking_failed", e.message));
    worker.postMessage({ type: "rate", maxFps: this._rateCap() });
    if (this.quality.inputWidth !== CAMERA_WIDTH || this.quality.inputHeight !== CAMERA_HEIGHT) await this._applySize();
    const track = stream.getVideoTracks()[0];
    if (typeof MediaStreamTrackProcessor === "function") {
      try {
        // maxBufferSize 1: when tracking is busy, older frames are dropped, never queued (latency).
        const processor = new MediaStreamTrackProcessor({ track, maxBufferSize: 1 });
        worker.postMessage({ type: "stream", readable: processor.readable }, [processor.readable]);
        this.mode = "stream";
        return;
      } catch (err) {
        console.warn("MediaStreamTrackProcessor unavailable, posting bitmaps", err);
      }
    }
    this.mode = "bitmap";
    await this._startBitmapLoop(stream);
  }

  async _startBitmapLoop(stream) {
    const video = document.createElement("video");
    video.muted = true;
    video.playsInline = true;
    video.srcObject = stream;
    await video.play();
    this._video = video;
    this._busy = false;
    const tick = async (_now, meta) => {
      if (this._stopped) return;
      const t = meta && meta.captureTime ? meta.captureTime : performance.now();
      const cap = this._rateCap();
      let due = null;
      if (!this._busy && video.readyState >= 2) due = cap ? nextDue(t, this._due, 1000 / cap) : t;
      if (due !== null) {
        this._busy = true;
        this._due = due;
        // Camera frames carry their capture time (same clock as performance.now()).
        const ts = performance.timeOrigin + t;
        try {
          // The video may still be larger than asked for (a camera that ignores the size): scale, keeping its shape.
          const k = Math.min(1, this.quality.inputWidth / Math.max(1, video.videoWidth));
          const size = { resizeWidth: Math.round(video.videoWidth * k), resizeHeight: Math.round(video.videoHeight * k) };
          const image = await createImageBitmap(video, k < 1 ? { ...size, resizeQuality: "low" } : {});
          this.worker.postMessage({ type: "frame", image, ts }, [image]);
        } catch (err) {
          this._busy = false;
        }
      }
      if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(tick);
      else setTimeout(tick, 15);
    };
    tick();
  }

  _onMessage(msg) {
    if (msg.type === "result") this.onResult(msg);
    else if (msg.type === "done") this._busy = false;
    else if (msg.type === "error") this.onError(new TrackerError(msg.code, msg.message));
  }

  stop() {
    this._stopped = true;
    if (this.worker) {
      this.worker.postMessage({ type: "stop" });
      const w = this.worker;
      setTimeout(() => w.terminate(), 200);
      this.worker = null;
    }
    if (this._video) {
      this._video.srcObject = null;
      this._video = null;
    }
    if (this.stream) {
      for (const t of this.stream.getTracks()) t.stop();
      this.stream = null;
    }
  }
}
