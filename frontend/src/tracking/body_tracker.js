// Main-thread side of body and hand tracking: one classic worker per MediaPipe solution
// (frontend/src/workers/body_worker.js: pose, and hands when the actor tracks fingers), each
// reading its own clone of the camera track, beside the face tracker's worker. Landmarks come
// back; the solver (body_solver.js, well under a millisecond) turns the newest pose and hands into
// the body section. The camera image never leaves the page.
import { BodySolver } from "./body_solver.js";

export const BODY_TRACK_HZ = 15; // the body section's own rate (frame v2 body at 15 Hz)
const HANDS_FRESH_MS = 250; // hands older than this are not paired with a new pose
// The hands tracker costs as much as pose per frame (its palm detector runs on every frame while
// no hand is found), so it runs only when the pose sees a wrist, and slowly while it looks for a
// hand it has not found for a while.
export const HAND_SEARCH_HZ = 4;
export const HAND_LOST_MS = 1000;
const WRIST_SEEN = 0.5; // pose visibility of a wrist (landmarks 15, 16) that counts as in the picture

/**
 * The hands tracker's rate for the newest pose: 0 while no wrist is in the picture (nothing to
 * find), HAND_SEARCH_HZ while a wrist is seen but no hand was found for HAND_LOST_MS, else `hz`.
 * @param {{pose:{visibility?:number[]}|null, now:number, lastHandAt:number, hz:number}} state
 */
export function handsRate({ pose, now, lastHandAt, hz }) {
  if (hz <= 0) return 0;
  const vis = (pose && pose.visibility) || [];
  const wrist = Math.max(vis[15] ?? 0, vis[16] ?? 0) >= WRIST_SEEN;
  if (!wrist) return 0;
  return now - lastHandAt > HAND_LOST_MS ? Math.min(hz, HAND_SEARCH_HZ) : hz;
}

/** Which of the person's hands a detected hand is: the pose wrist nearest to its wrist. */
export function sideOfHand(hand, pose) {
  const w = hand.image && hand.image[0];
  if (!w) return null;
  if (pose && pose.image && pose.image.length > 16) {
    const d = (i) => Math.hypot(pose.image[i][0] - w[0], pose.image[i][1] - w[1]);
    return d(15) <= d(16) ? "left" : "right";
  }
  // No pose: an unmirrored camera shows the person's left hand on the image's right.
  return w[0] >= 0.5 ? "left" : "right";
}

export class SolutionWorker {
  constructor({ url, base, kind, onResult, onError }) {
    this.url = url;
    this.base = base;
    this.kind = kind;
    this.onResult = onResult;
    this.onError = onError;
    this.worker = null;
    this.track = null;
    this.rate = 0; // the rate asked last (frames per second)
  }

  async start(track, fps) {
    this.rate = fps;
    const worker = new Worker(this.url, { name: `${this.kind}-tracker` }); // classic: importScripts
    this.worker = worker;
    await new Promise((resolve, reject) => {
      worker.onmessage = (e) => {
        if (e.data.type === "ready") resolve();
        else if (e.data.type === "error") reject(Object.assign(new Error(e.data.message), { code: e.data.code }));
      };
      worker.onerror = (e) => reject(Object.assign(new Error(e.message || "worker failed"), { code: "model_failed" }));
      worker.postMessage({ type: "init", kind: this.kind, base: this.base });
    });
    worker.onmessage = (e) => {
      if (e.data.type === "result") this.onResult(e.data);
      else if (e.data.type === "error") this.onError(e.data);
    };
    // The rate asked last: a rate set while the model loaded (the hands tracker's search rate,
    // adaptive quality) must not be overwritten by the one it started with.
    this.setRate(this.rate);
    // A clone of its own: the face tracker's processor keeps the original track.
    this.track = track.clone();
    const processor = new MediaStreamTrackProcessor({ track: this.track, maxBufferSize: 1 });
    worker.postMessage({ type: "stream", readable: processor.readable }, [processor.readable]);
  }

  setRate(fps) {
    this.rate = fps;
    if (this.worker) this.worker.postMessage({ type: "rate", maxFps: fps });
  }

  stop() {
    if (this.worker) {
      this.worker.postMessage({ type: "stop" });
      const w = this.worker;
      setTimeout(() => w.terminate(), 200);
      this.worker = null;
    }
    if (this.track) this.track.stop();
    this.track = null;
  }
}

export class BodyTracking {
  /**
   * @param {{workerUrl:string, base:string, onBody:(body:object, ts:number)=>void,
   *          onError?:(err)=>void, poseRate?:{mark:Function}, handRate?:{mark:Function}}} opts
   *   base: folder holding mediapipe-legacy/pose/ and mediapipe-legacy/hands/
   */
  constructor({ workerUrl, base, onBody, onError = () => {}, poseRate = null, handRate = null }) {
    this.workerUrl = workerUrl;
    this.base = base.endsWith("/") ? base : `${base}/`;
    this.onBody = onBody;
    this.onError = onError;
    this.poseRate = poseRate;
    this.handRate = handRate;
    this.solver = new BodySolver();
    this.pose = null;
    this.hands = [];
    this.handsAt = -Infinity;
    this.workers = {};
    this.rateHz = BODY_TRACK_HZ;
    this.procMs = { pose: 0, hands: 0 };
    this.ready = false;
    this.lastHandAt = -Infinity; // when the hands tracker last found a hand
    this.handsHz = BODY_TRACK_HZ; // the hands worker's rate now (handsRate)
  }

  configure(settings) {
    this.solver.configure({
      mirror: settings.mirror, bodySensitivity: settings.bodySensitivity, handSensitivity: settings.handSensitivity,
    });
  }

  /** Start the pose worker (always: it places the arms) and the hands worker when `hands`. */
  async start(track, { hands = true } = {}) {
    const kinds = hands ? ["pose", "hands"] : ["pose"];
    this.handsHz = this.rateHz;
    for (const kind of kinds) {
      const w = new SolutionWorker({
        url: this.workerUrl, base: `${this.base}${kind}/`, kind,
        onResult: (r) => this._onResult(r), onError: (e) => this.onError(e),
      });
      this.workers[kind] = w;
      await w.start(track, this.rateHz);
    }
    this.ready = true; // models loaded, frames flowing
  }

  /** Adaptive quality: the trackers' rate (0 pauses them; the solver then holds and relaxes). */
  setRate(hz) {
    this.rateHz = hz;
    if (this.workers.pose) this.workers.pose.setRate(hz);
    this._setHandsRate(Math.min(hz, this.handsHz));
  }

  _setHandsRate(hz) {
    if (!this.workers.hands || hz === this.handsHz) return;
    this.handsHz = hz;
    this.workers.hands.setRate(hz);
  }

  _onResult(r) {
    this.procMs[r.kind] = r.procMs;
    if (r.kind === "hands") {
      if (this.handRate) this.handRate.mark();
      this.hands = r.hands;
      this.handsAt = r.ts;
      if (r.hands.length) this.lastHandAt = r.ts;
      return;
    }
    if (this.poseRate) this.poseRate.mark();
    this.pose = r.pose;
    this._setHandsRate(handsRate({ pose: r.pose, now: r.ts, lastHandAt: this.lastHandAt, hz: this.rateHz }));
    const hands = r.ts - this.handsAt < HANDS_FRESH_MS
      ? this.hands.map((h) => ({ world: h.world, side: sideOfHand(h, this.pose) })).filter((h) => h.side)
      : [];
    const body = this.solver.solve({ pose: this.pose, hands, t: r.ts });
    this.onBody(body, r.ts);
  }

  stop() {
    for (const w of Object.values(this.workers)) w.stop();
    this.workers = {};
  }
}
