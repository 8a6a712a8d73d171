// Our camera (face tracking in a worker; the image never leaves the device) and microphone
// (the audio track of the call, and the speaking flag of our frames), with their buttons.
import { poseFromMatrix } from "../tracking/pose.js";
import { FaceTracker, openCamera } from "../tracking/tracker.js";
import { SpeakingDetector, openMic } from "./audio.js";
import { nowMs } from "./clock.js";

const CAMERA_PREF = "af.call.camera";

export class LocalMedia {
  /**
   * @param {{ui:CallUi, tracker:{workerUrl,modelUrl,wasmBase}, pipeline:TrackingPipeline, stats:object,
   *          trackRate:RateMeter, onParams:(params:object, captureTs:number)=>void}} opts
   */
  constructor({ ui, tracker, pipeline, stats, trackRate, onParams }) {
    this.ui = ui;
    this.trackerCfg = tracker;
    this.pipeline = pipeline;
    this.stats = stats;
    this.trackRate = trackRate;
    this.onParams = onParams;
    this.tracker = null;
    this.cameraOn = localStorage.getItem(CAMERA_PREF) !== "off";
    this.lastResultAt = -Infinity;
    this.mic = null;
    this.micMuted = false;
    this.speaking = null;
  }

  // ---------------------------------------------------------------- camera and tracking
  async startCamera() {
    if (!this.cameraOn) {
      this.ui.setCameraUi(false);
      return;
    }
    let stream;
    try {
      stream = await openCamera();
    } catch (err) {
      this.cameraOn = false;
      this.ui.setCameraUi(false);
      this.ui.showMessage(err.code || "no_camera", "error");
      return;
    }
    this.tracker = new FaceTracker({
      ...this.trackerCfg,
      onResult: (r) => this.onTrackerResult(r),
      onError: (err) => this.ui.showMessage(err.code || "tracking_failed", "error"),
    });
    try {
      await this.tracker.start(stream);
      this.ui.setCameraUi(true);
    } catch (err) {
      this.tracker.stop();
      this.tracker = null;
      this.ui.setCameraUi(false);
      this.ui.showMessage(err.code || "model_failed", "error");
    }
  }

  stopCamera() {
    if (this.tracker) this.tracker.stop();
    this.tracker = null;
    this.ui.setCameraUi(false);
  }

  async toggleCamera() {
    if (this.tracker) {
      this.stopCamera();
      this.cameraOn = false;
    } else {
      this.cameraOn = true;
      await this.startCamera();
    }
    localStorage.setItem(CAMERA_PREF, this.cameraOn ? "on" : "off");
  }

  onTrackerResult(r) {
    const s = this.stats;
    s.trackingProcMs += r.procMs || 0;
    s.trackingQueueMs += r.queueMs || 0;
    this.trackRate.mark();
    s.trackingResults += 1;
    this.lastResultAt = nowMs();
    if (r.found) {
      s.trackingFaces += 1;
      // Raw roll before calibration and smoothing: the reference the receiver's roll is compared with.
      s.sentRoll.push([Math.round(r.ts) % 4294967296, poseFromMatrix(r.matrix).rotation[2]]);
    }
    this.onParams(this.pipeline.fromResult(r), r.ts);
  }

  async calibrate() {
    this.ui.setCalibrateEnabled(false);
    this.ui.showMessage("calibrating", "info");
    const ok = await this.pipeline.calibration.begin(1200);
    this.ui.clearMessage("calibrating");
    this.ui.showMessage(ok ? "calibrated" : "calibration_failed", ok ? "success" : "warning");
    setTimeout(() => this.ui.clearMessage(ok ? "calibrated" : "calibration_failed"), 3000);
    this.ui.setCalibrateEnabled(Boolean(this.tracker));
  }

  // ---------------------------------------------------------------- microphone
  async startMic() {
    try {
      this.mic = await openMic();
    } catch (err) {
      this.mic = null;
      this.ui.showMessage(err && err.name === "NotAllowedError" ? "mic_denied" : "no_mic", "warning");
      this.ui.disableMute();
      return;
    }
    try {
      this.speaking = new SpeakingDetector(this.mic);
    } catch {
      this.speaking = null;
    }
  }

  micTrack() {
    return this.mic ? this.mic.getAudioTracks()[0] : null;
  }

  toggleMute() {
    const track = this.micTrack();
    if (!track) return;
    this.micMuted = !this.micMuted;
    track.enabled = !this.micMuted;
    this.ui.setMuted(this.micMuted);
  }

  /** The speaking flag for the next frame (false while muted). */
  speakingNow() {
    return this.speaking ? this.speaking.update(!this.micMuted) : false;
  }

  /** The microphone's smoothed RMS as of the last speakingNow() (0 while muted or without a mic). */
  voiceLevel() {
    return this.speaking && !this.micMuted ? this.speaking.level : 0;
  }

  /** For the speaking ring around our card. */
  isSpeaking() {
    return Boolean(this.speaking && this.speaking.speaking && !this.micMuted);
  }

  close() {
    this.stopCamera();
    if (this.mic) for (const t of this.mic.getTracks()) t.stop();
    if (this.speaking) this.speaking.close();
  }
}
