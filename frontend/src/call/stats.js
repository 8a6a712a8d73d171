// Small statistics helpers for the stats panel and the measurement hooks.
import { armAngles, handPositions } from "../avatar/body_bones.js";
import { trackDeviceId } from "./audio.js";
import { QUALITY_LEVELS } from "./quality.js";

export function percentile(values, p) {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

/** Events per second over a sliding window. */
export class RateMeter {
  constructor(windowMs = 2000) {
    this.windowMs = windowMs;
    this.times = [];
    this.count = 0; // marks ever made
  }

  mark(t = performance.now()) {
    this.count += 1;
    this.times.push(t);
    const cut = t - this.windowMs * 2;
    while (this.times.length && this.times[0] < cut) this.times.shift();
  }

  rate(now = performance.now()) {
    const recent = this.times.filter((t) => now - t <= this.windowMs);
    if (recent.length < 2) return 0;
    const span = Math.max(now - recent[0], recent[recent.length - 1] - recent[0]);
    return span > 0 ? ((recent.length - 1) * 1000) / span : 0;
  }
}

/** A bounded list of samples (latency, roll, ...). */
export class SampleBuffer {
  constructor(max = 2000) {
    this.max = max;
    this.values = [];
    this.total = 0; // samples ever pushed (clear() keeps counting): readers find what's new
  }

  push(v) {
    this.total += 1;
    this.values.push(v);
    if (this.values.length > this.max) this.values.splice(0, this.values.length - this.max);
  }

  recent(n) {
    return this.values.slice(-n);
  }

  /** Samples pushed after the reader saw `total` (as many as are still held). */
  since(total) {
    const n = Math.min(this.values.length, this.total - total);
    return n > 0 ? this.values.slice(-n) : [];
  }

  clear() {
    this.values.length = 0;
  }
}

/**
 * window.__afStats: read-only numbers of a running CallApp for the browser tests and
 * bench/browser_call.py (the only global the call page sets besides window.__afCall).
 */
export function exposeStats(app) {
  const s = app.stats;
  const peer = () => app.session.peer;
  window.__afStats = {
    get state() { return app.ui.state; },
    get connection() { return app.session.connection; },
    get signaling() { return app.session.signalingState; },
    get framesSent() { return app.sender.framesSent; },
    get framesReceived() { return s.framesReceived; },
    get faceFramesReceived() { return s.faceFramesReceived; },
    get frameBytes() { return s.frameBytes; },
    get trackingResults() { return s.trackingResults; },
    get trackingFaces() { return s.trackingFaces; },
    get trackingProcMs() { return s.trackingProcMs; },
    get trackingQueueMs() { return s.trackingQueueMs; },
    get trackingFps() { return app.trackRate.rate(); },
    // Body and hands (issue 18): tracker rates, what went out and what came in.
    get bodyTracking() { return Boolean(app.media.body); },
    get bodyTrackingFps() { return app.media.poseRate.rate(); },
    get handTrackingFps() { return app.media.handRate.rate(); },
    get bodyResults() { return app.media.poseRate.count; },
    get handResults() { return app.media.handRate.count; },
    get bodyFramesSent() { return app.sender.bodyFramesSent; },
    get bodyFramesReceived() { return app.remote.receiver.bodyFrames; },
    get frameBytesMax() { return s.frameBytesMax; },
    get frameVersion() { return app.session.frameVersion; },
    /** Our solved arm angles as we send them (radians), or null without a body. */
    get localArms() {
      const p = app.localReceiver.shown;
      return p.hasBody ? armAngles(p.body) : null;
    },
    /** The other avatar's hands: from the received bones, and on its VRM model when it has one. */
    get remoteHands() {
      const rx = app.remote.receiver;
      if (!rx.shown.hasBody) return null;
      const r = app.remoteView && app.remoteView.renderer;
      return { bones: handPositions(rx.shown.body), model: r && r.handHeights ? r.handHeights() : null };
    },
    get trackerMode() { return app.media.tracker ? app.media.tracker.mode : "off"; },
    get renderFpsLocal() { return app.localView ? app.localView.fps() : 0; },
    get renderFpsRemote() { return app.remoteView ? app.remoteView.fps() : 0; },
    get remoteFrames() { return app.remoteView ? app.remoteView.count : 0; },
    get localFrames() { return app.localView ? app.localView.count : 0; },
    get localKind() { return app.localView ? app.localView.kind : null; },
    get remoteKind() { return app.remoteView ? app.remoteView.kind : null; },
    get remoteAvatar() { return app.remote.avatar; },
    get characterState() { return app.characterVoice ? app.characterVoice.state : null; },
    get characterBargeIn() { return app.bargeStats ? { ...app.bargeStats } : null; },
    get latency() { return s.latency.values.slice(); },
    get arrival() { return s.arrival.values.slice(); },
    get sentRoll() { return s.sentRoll.values.slice(); },
    get recvRoll() { return s.recvRoll.values.slice(); },
    get recvSmile() { return s.recvSmile.values.slice(); },
    get recvJaw() { return s.recvJaw.values.slice(); },
    get remoteJaw() {
      const last = s.recvJaw.values[s.recvJaw.values.length - 1];
      return last ? last[1] : null;
    },
    get senderKinds() {
      const p = peer();
      return p ? p.senderKinds() : [];
    },
    get transceiverKinds() {
      const p = peer();
      return p ? p.pc.getTransceivers().map((t) => (t.receiver.track ? t.receiver.track.kind : null)) : [];
    },
    get rtt() { return s.rtt; },
    get cameraDevice() { return app.media.cameraDeviceId(); },
    get micDevice() { return app.media.micDeviceId(); },
    /** The device of the audio track the peer connection sends (the picker swaps it live). */
    get sentMicDevice() {
      const p = peer();
      const sender = p ? p.pc.getSenders().find((x) => x.track && x.track.kind === "audio") : null;
      return sender ? trackDeviceId(sender.track) : null;
    },
    get framing() {
      const v = app.ui.el("framing");
      return {
        on: app.media.framingOn, hidden: v.hidden, playing: !v.paused && v.readyState >= 2,
        width: v.videoWidth, height: v.videoHeight, time: v.currentTime,
      };
    },
    get voiceMouthWeight() { return app.voiceMouth.weight; },
    get voiceMouthOpenness() { return app.voiceMouth.openness; },
    get clockSynced() { return app.clock.synced; },
    get clockOffset() { return app.clock.offset; },
    get messages() { return [...app.ui.messages.keys()]; },
    /** Adaptive quality: the level (0 = full), its key and settings, and the last measurement judged. */
    get qualityLevel() { return app.quality.level; },
    get qualityLevels() { return QUALITY_LEVELS.map((l) => ({ ...l })); },
    get quality() { return app.quality.snapshot(); },
    /** The image size the face tracker was last given ([width, height]; null before a result). */
    get trackerInput() { return s.trackerInput; },
    resetSamples() {
      s.framesReceived = 0;
      s.faceFramesReceived = 0;
      s.latency.clear();
      s.arrival.clear();
      s.recvRoll.clear();
      s.sentRoll.clear();
      s.recvSmile.clear();
      s.recvJaw.clear();
    },
  };
}
