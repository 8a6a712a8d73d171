// Receiving side of the parameter frames: drops stale (reordered) frames, holds the last pose
// when frames stop, and after a long silence eases into the idle animation. Records
// capture-to-render latency when a frame is first drawn.
//
// Two ways to show the frames:
//   - interpolate (the cheap 2D avatar): glide from the pose on screen to each new frame over
//     about one frame interval, so 30 Hz frames look smooth at 60 fps without a playout buffer;
//   - newest pose (the VRM avatar under software GL, where every draw costs tens of ms of CPU):
//     draw each frame's pose as it is, once, at the next animation frame.
// `needsRender(now)` tells the view whether a draw would show anything new, so a renderer can
// skip animation frames whose picture would be identical.
import { bodyFromFrame, copyBody, createParams, copyParams, lerpBody, lerpParams, paramsFromFrame } from "../avatar/params.js";
import { IdleAnimator } from "../tracking/idle.js";
import { decodeFrame, isNewerSeq } from "./frame_codec.js";

const IDLE_AFTER_MS = 3000; // silence before easing into idle (the pose is held until then)
const IDLE_EASE_MS = 1000;

export class FrameReceiver {
  constructor({ interpolate = true } = {}) {
    this.interpolate = interpolate;
    this.from = createParams();
    this.target = createParams();
    this.shown = createParams();
    this.idlePose = createParams();
    this.idle = new IdleAnimator();
    this.lastSeq = null;
    this.lastArrival = -Infinity;
    this.interval = 33;
    this.start = 0;
    this.pending = []; // timestamps of frames not drawn yet
    this.received = 0;
    this.dropped = 0; // stale or undecodable
    this.lost = 0; // gaps in sequence numbers
    this.faceFrames = 0;
    this.lastFrame = null;
    this.lastBytes = 0;
    this._expressions = {};
    this.hasFrames = false;
    this.version = 0; // bumped by every change that alters the picture
    this._sampledVersion = -1;
    this._settled = false; // the last sample showed the target pose itself (no glide, no idle)
    // The body section comes at its own rate (every other frame or less): it glides from the
    // bones on screen to each new body over the interval between body frames.
    this.bodyFrom = createParams();
    this.bodyTarget = createParams();
    this.bodyStart = 0;
    this.bodyInterval = 66;
    this.lastBodyArrival = -Infinity;
    this.bodyFrames = 0;
  }

  /** Held expression overrides (keyboard shortcuts) sent by the other side. */
  get expressions() {
    return this._expressions;
  }

  set expressions(value) {
    this._expressions = value || {};
    this.version += 1;
  }

  /** @param {ArrayBuffer} data  @param {number} now performance.now() */
  push(data, now = performance.now()) {
    let frame;
    try {
      frame = decodeFrame(data);
    } catch {
      this.dropped += 1;
      return null;
    }
    if (this.lastSeq !== null && !isNewerSeq(frame.seq, this.lastSeq)) {
      this.dropped += 1;
      return null;
    }
    if (this.lastSeq !== null) this.lost += ((frame.seq - this.lastSeq + 65536) % 65536) - 1;
    this.lastSeq = frame.seq;
    this.received += 1;
    if (!frame.face_lost) this.faceFrames += 1;
    this.lastBytes = data.byteLength;
    const gap = now - this.lastArrival;
    if (gap > 0 && gap < 200) this.interval = this.interval * 0.8 + gap * 0.2;
    this.lastArrival = now;
    copyParams(this.from, this.shown);
    paramsFromFrame(this.target, frame);
    if (!this.hasFrames) copyParams(this.from, this.target);
    if (frame.body) {
      const bodyGap = now - this.lastBodyArrival;
      if (bodyGap > 0 && bodyGap < 500) this.bodyInterval = this.bodyInterval * 0.8 + bodyGap * 0.2;
      this.lastBodyArrival = now;
      copyBody(this.bodyFrom, this.shown);
      bodyFromFrame(this.bodyTarget, frame);
      if (!this.shown.hasBody) copyBody(this.bodyFrom, this.bodyTarget);
      this.bodyStart = now;
      this.bodyFrames += 1;
    }
    this.hasFrames = true;
    this.start = now;
    this.pending.push(frame.timestamp_ms);
    this.lastFrame = frame;
    this.version += 1;
    return frame;
  }

  /** The pose to draw at `now`. */
  sample(now = performance.now()) {
    this._sampledVersion = this.version;
    if (!this.hasFrames) {
      this.idle.pose(this.shown, now);
      this.shown.expressions = this._expressions;
      this._settled = false;
      return this.shown;
    }
    // `now` is the animation frame's start time, which can be earlier than the arrival of a frame
    // pushed during that frame (a busy main thread runs message handlers before the rAF
    // callback): clamp at 0, or the glide runs backwards past `from` (a blendshape below 0 gave
    // the 2D renderer a negative ellipse radius, which throws).
    const elapsed = Math.max(0, now - this.start);
    const t = this.interpolate ? Math.min(1, elapsed / Math.max(16, Math.min(80, this.interval))) : 1;
    if (t < 1) lerpParams(this.shown, this.from, this.target, t);
    else copyParams(this.shown, this.target);
    this._settled = t >= 1;
    const silent = now - this.lastArrival;
    if (silent > IDLE_AFTER_MS) {
      this.idle.pose(this.idlePose, now);
      const w = Math.min(1, (silent - IDLE_AFTER_MS) / IDLE_EASE_MS);
      lerpParams(this.shown, this.shown, this.idlePose, w * w * (3 - 2 * w));
      this.shown.speaking = false;
      this._settled = false;
    }
    this._sampleBody(now);
    this.shown.expressions = this._expressions;
    return this.shown;
  }

  // Bones glide between body frames (also when drawing each face frame as it is: at 15 Hz a
  // body drawn as it comes would step visibly). No body for 2 s: the avatar's own rest pose.
  _sampleBody(now) {
    if (!this.bodyTarget.hasBody) return;
    if (now - this.lastBodyArrival > 2000) {
      this.shown.hasBody = false;
      return;
    }
    // Up to 300 ms: adaptive quality's slowest body rate (4 Hz) still glides from frame to frame.
    const t = Math.min(1, (now - this.bodyStart) / Math.max(16, Math.min(300, this.bodyInterval)));
    lerpBody(this.shown, this.bodyFrom, this.bodyTarget, t);
    if (t < 1) this._settled = false;
  }

  /**
   * Would sample(now) show something the last sample didn't? A new frame or expression, a glide
   * still under way, or the idle animation (no frames yet, or a long silence).
   */
  needsRender(now = performance.now()) {
    if (this.version !== this._sampledVersion || !this._settled) return true;
    return this.hasFrames && now - this.lastArrival > IDLE_AFTER_MS;
  }

  /** True when frames stopped arriving for a while (held pose). */
  stalled(now = performance.now()) {
    return this.hasFrames && now - this.lastArrival > 1000;
  }

  /** Frames drawn for the first time since the last call: their sender timestamps. */
  takeRendered() {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  reset() {
    this.lastSeq = null;
    this.bodyTarget.hasBody = false;
    this.shown.hasBody = false;
    this.lastBodyArrival = -Infinity;
    this.hasFrames = false;
    this.lastFrame = null; // what the other side last said of itself (speaking, face lost) is void too
    this.pending = [];
    this.lastArrival = -Infinity;
    this.version += 1;
  }
}
