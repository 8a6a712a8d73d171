// Sender-side processing: raw tracker result -> head pose -> neutral calibration -> One Euro
// smoothing -> actor settings -> the parameter object that is previewed locally and sent.
// When the face is lost: hold the last pose briefly, then ease into the idle animation.
import { createParams, copyParams, lerpParams } from "../avatar/params.js";
import { BLENDSHAPE_COUNT } from "../call/frame_codec.js";
import { applySettings, normalizeSettings } from "./actor_settings.js";
import { Calibration } from "./calibration.js";
import { IdleAnimator } from "./idle.js";
import { OneEuroBank } from "./one_euro.js";
import { poseFromMatrix } from "./pose.js";

export const HOLD_MS = 600; // keep the last pose this long after the face disappears
// ...and, on a slow tracker (a busy machine runs it at 2-3 results a second), until this many
// results in a row found no face, up to HOLD_MAX_MS: MediaPipe drops a face it tracks between
// far-apart frames for a result or two, which is not the person leaving.
export const MISSES_TO_LOSE = 3;
export const HOLD_MAX_MS = 1500;
export const EASE_MS = 900; // then blend into idle over this long
export const STALL_MS = 2000; // no tracker result at all for this long counts as lost too
const RETURN_MS = 250; // blend from idle back to tracking when the face returns

const smooth = (t) => t * t * (3 - 2 * t);

export class TrackingPipeline {
  constructor({ settings = {}, calibration = new Calibration(), idle = new IdleAnimator() } = {}) {
    this.calibration = calibration;
    this.idle = idle;
    this.setSettings(settings);
    this.params = createParams();
    this.tracked = createParams(); // last pose from a face
    this.idlePose = createParams();
    this.rotFilter = new OneEuroBank(3, 1.2, 0.6);
    this.posFilter = new OneEuroBank(3, 1.0, 0.05);
    this.bsFilter = new OneEuroBank(BLENDSHAPE_COUNT, 3.0, 2.0);
    this.lastFaceAt = -Infinity;
    this.lastResultAt = -Infinity;
    this.noFaceSince = null; // set while the tracker reports frames without a face
    this.misses = 0; // results in a row without a face
    this.lostAt = null; // when the hold ended and the ease into idle began
    this.faceReturnedAt = -Infinity;
    this.haveFace = false;
    this._rot = new Float32Array(3);
    this._pos = new Float32Array(3);
    this._bs = new Float32Array(BLENDSHAPE_COUNT);
  }

  setSettings(raw) {
    this.settings = normalizeSettings(raw);
  }

  /** True while the face is missing long enough that the UI should say so. */
  get faceLost() {
    return this.params.faceLost;
  }

  /**
   * @param {{ts:number, found:boolean, blendshapes:Float32Array, matrix:Float32Array}} result
   * @returns the shared params object (reused: copy it if you keep it)
   */
  fromResult(result) {
    const t = result.ts;
    this.lastResultAt = t;
    if (!result.found) {
      if (this.noFaceSince === null) this.noFaceSince = t;
      this.misses += 1;
      return this.tick(t);
    }
    this.noFaceSince = null;
    this.misses = 0;
    this.lostAt = null;
    const pose = poseFromMatrix(result.matrix);
    this._rot.set(pose.rotation);
    this._pos.set(pose.position);
    this._bs.set(result.blendshapes);
    this.calibration.observe(this._rot, this._bs, t);
    this.calibration.apply(this._rot, this._bs);
    if (!this.haveFace && t - this.lastFaceAt > HOLD_MS) {
      // Coming back after a loss: restart the filters so they don't drag the old pose along.
      this.rotFilter.reset();
      this.posFilter.reset();
      this.bsFilter.reset();
      this.faceReturnedAt = t;
    }
    this.rotFilter.apply(this._rot, t);
    this.posFilter.apply(this._pos, t);
    this.bsFilter.apply(this._bs, t);
    applySettings(this._bs, this.settings);
    const tr = this.tracked;
    tr.rotation.set(this._rot);
    tr.position.set(this._pos);
    tr.blendshapes.set(this._bs);
    tr.faceLost = false;
    this.haveFace = true;
    this.lastFaceAt = t;
    const back = (t - this.faceReturnedAt) / RETURN_MS;
    if (back < 1) {
      this.idle.pose(this.idlePose, t);
      lerpParams(this.params, this.idlePose, tr, smooth(Math.max(0, back)));
    } else {
      copyParams(this.params, tr);
    }
    this.params.faceLost = false;
    this.params.expressions = this.params.expressions || {};
    return this.params;
  }

  /**
   * Advance without a new face: the tracker saw no face, there is no camera, or the tracker is
   * just late (a busy machine). Late results hold the pose without calling the face lost.
   */
  tick(t) {
    const late = this.noFaceSince === null && t - this.lastResultAt < STALL_MS;
    if (late && this.haveFace) {
      copyParams(this.params, this.tracked);
      this.params.faceLost = false;
      return this.params;
    }
    this.haveFace = false;
    const since = t - this.lastFaceAt;
    const stalled = t - this.lastResultAt >= STALL_MS;
    const holding = since < HOLD_MS || (!stalled && this.misses < MISSES_TO_LOSE && since < HOLD_MAX_MS);
    if (holding && this.lostAt === null) {
      copyParams(this.params, this.tracked);
      this.params.faceLost = false;
    } else {
      if (this.lostAt === null) this.lostAt = t;
      this.idle.pose(this.idlePose, t);
      const w = Number.isFinite(since) ? Math.min(1, (t - this.lostAt) / EASE_MS) : 1;
      lerpParams(this.params, this.tracked, this.idlePose, smooth(w));
      this.params.faceLost = true;
    }
    return this.params;
  }
}
