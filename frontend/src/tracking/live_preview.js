// Your own tracked face through an actor's settings, live, for the actor editor: the camera is
// tracked exactly as in a call (tracker.js worker, TrackingPipeline: calibration-free pose,
// smoothing), then the settings being edited (sensitivity, curves) are applied to a copy of each
// frame with the same code the call uses (actor_settings.js), so what the editor shows is what
// the other person would see. The raw scores are kept too, for the editor's readout.
// The camera image stays in this page: the tracker returns numbers only.
import { BLENDSHAPE_COUNT } from "../call/frame_codec.js";
import { applySettings, normalizeSettings } from "./actor_settings.js";
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
  constructor({ workerUrl, modelUrl, wasmBase, onFrame, onError }) {
    this.cfg = { workerUrl, modelUrl, wasmBase };
    this.onFrame = onFrame;
    this.onError = onError;
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
  }

  _onResult(r) {
    if (!this.tracker) return;
    this.results += 1;
    if (r.found) this.faces += 1;
    const params = this.pipeline.fromResult(r);
    previewBlendshapes(params.blendshapes, this.settings, this.out);
    this.onFrame({ found: Boolean(r.found), rotation: params.rotation, raw: params.blendshapes, out: this.out });
  }

  stop() {
    if (this.tracker) this.tracker.stop();
    this.tracker = null;
  }
}
