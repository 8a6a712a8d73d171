// Your own tracked face through an actor's settings, live, for the actor editor: the camera is
// tracked exactly as in a call (tracker.js worker, TrackingPipeline: calibration-free pose,
// smoothing), then the settings being edited (sensitivity, curves) are applied to a copy of each
// frame with the same code the call uses (actor_settings.js), so what the editor shows is what
// the other person would see. The raw scores are kept too, for the editor's readout.
// When the actor tracks body or hands, the same body/hand workers as a call (body_tracker.js)
// run beside the face on clones of the camera track, with the form's mirror and per-part
// sensitivities; the flags and sliders apply from the next frame, no restart but for the flags.
// The camera image stays in this page: the trackers return numbers only.
import { BLENDSHAPE_COUNT } from "../call/frame_codec.js";
import { RateMeter } from "../call/stats.js";
import { applySettings, normalizeSettings } from "./actor_settings.js";
import { BodyTracking } from "./body_tracker.js";
import { TrackingPipeline } from "./pipeline.js";
import { FaceTracker, openCamera } from "./tracker.js";

/**
 * One preview frame: the actor's settings applied to a copy of tracked blendshapes.
 * @param {Float32Array|number[]} raw  tracked scores (smoothed, before any actor setting)
 * @param {ReturnType<typeof normalizeSettings>} settings
 * @returns {Float32Array} the scores the avatar shows
 */
export function previewBlendshapes(raw, settings, out = new Float32Array(BLENDSHAPE_COUNT)) {
  out.set(raw);
  return applySettings(out, settings);
}

export class LiveFacePreview {
  /**
   * @param {{workerUrl:string, modelUrl:string, wasmBase:string,
   *          onFrame:(f:{found:boolean, rotation:Float32Array, raw:Float32Array, out:Float32Array})=>void,
   *          onError:(err:Error)=>void}} opts
   */
  constructor({ workerUrl, modelUrl, wasmBase, onFrame, onError, bodyWorkerUrl = null, legacyBase = null, onBody = () => {}, onBodyError = () => {} }) {
    this.cfg = { workerUrl, modelUrl, wasmBase };
    this.onFrame = onFrame;
    this.onError = onError;
    // Body and hands: the classic worker and the folder of the legacy MediaPipe solutions.
    this.bodyCfg = bodyWorkerUrl && legacyBase ? { workerUrl: bodyWorkerUrl, base: legacyBase } : null;
    this.onBody = onBody; // (body section, ts) after each pose result
    this.onBodyError = onBodyError;
    this.body = null; // BodyTracking while the settings track body or hands
    this.lastBody = null;
    this.faceRate = new RateMeter();
    this.poseRate = new RateMeter();
    this.handRate = new RateMeter();
    this.pipeline = new TrackingPipeline(); // no actor settings here: they are applied per frame below
    this.settings = normalizeSettings({});
    this.tracker = null;
    this.out = new Float32Array(BLENDSHAPE_COUNT);
    this.results = 0;
    this.faces = 0;
  }

  /** The settings being edited (server schema, as the form holds them); used from the next frame on. */
  setSettings(raw) {
    this.settings = normalizeSettings(raw);
    if (this.body) this.body.configure(this.settings); // mirror and sensitivities, live
    this.refreshBody();
  }

  /** Start, stop or restart the body trackers to match the body/hand flags (camera running). */
  async refreshBody() {
    const s = this.settings;
    const want = Boolean(this.bodyCfg && this.tracker && this.tracker.stream && (s.bodyTracking || s.handTracking));
    const hands = Boolean(s.handTracking);
    if (this.body && (!want || this.body.handsOn !== hands)) {
      this.body.stop();
      this.body = null;
      this.lastBody = null;
      this.onBody(null, 0); // the arms go back to rest
    }
    if (!want || this.body) return;
    const body = new BodyTracking({
      ...this.bodyCfg,
      poseRate: this.poseRate,
      handRate: this.handRate,
      onBody: (b, ts) => {
        if (this.body !== body) return;
        this.lastBody = b;
        this.onBody(b, ts);
      },
      onError: (e) => this.onBodyError(e),
    });
    body.handsOn = hands;
    body.configure(s);
    this.body = body;
    try {
      await body.start(this.tracker.stream.getVideoTracks()[0], { hands });
    } catch (err) {
      body.stop();
      if (this.body === body) this.body = null;
      this.onBodyError(err);
    }
  }

  /** Each tracker's rate now (frames per second; null: that tracker is off). */
  rates() {
    const s = this.settings;
    return {
      face: this.tracker ? this.faceRate.rate() : null,
      body: this.body ? this.poseRate.rate() : null,
      hands: this.body && this.body.handsOn ? this.handRate.rate() : null,
      bodyOn: Boolean(this.body), handsOn: Boolean(this.body && this.body.handsOn), wanted: Boolean(s.bodyTracking || s.handTracking),
    };
  }

  get running() {
    return Boolean(this.tracker);
  }

  async start() {
    const stream = await openCamera();
    const tracker = new FaceTracker({
      ...this.cfg,
      onResult: (r) => this._onResult(r),
      onError: (err) => this.onError(err),
    });
    this.tracker = tracker;
    try {
      await tracker.start(stream);
    } catch (err) {
      tracker.stop();
      this.tracker = null;
      throw err;
    }
    this.refreshBody(); // not awaited: the face follows while the body models load
  }

  _onResult(r) {
    if (!this.tracker) return;
    this.results += 1;
    this.faceRate.mark();
    if (r.found) this.faces += 1;
    const params = this.pipeline.fromResult(r);
    previewBlendshapes(params.blendshapes, this.settings, this.out);
    this.onFrame({ found: Boolean(r.found), rotation: params.rotation, raw: params.blendshapes, out: this.out });
  }

  stop() {
    if (this.body) this.body.stop();
    this.body = null;
    this.lastBody = null;
    if (this.tracker) this.tracker.stop();
    this.tracker = null;
  }
}
