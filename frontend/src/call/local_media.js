// Our camera (face tracking in a worker; the image never leaves the device) and microphone
// (the audio track of the call, and the speaking flag of our frames), with their buttons, the
// device pickers (remembered in localStorage, switched live) and the framing preview: a clone of
// the camera track shown in a local <video> so people can check framing and light. The clone is
// never given to the peer connection (its only sender is the microphone).
import { copyBody } from "../avatar/params.js";
import { BodyTracking } from "../tracking/body_tracker.js";
import { poseFromMatrix } from "../tracking/pose.js";
import { FaceTracker, openCamera } from "../tracking/tracker.js";
import { SpeakingDetector, openMic, trackDeviceId } from "./audio.js";
import { nowMs } from "./clock.js";
import { wireTimestamp } from "./frame_codec.js";
import { RateMeter } from "./stats.js";

const CAMERA_PREF = "af.call.camera";
const CAMERA_DEVICE_PREF = "af.call.cameraDevice";
const MIC_DEVICE_PREF = "af.call.micDevice";

export class LocalMedia {
  /**
   * @param {{ui:CallUi, tracker:{workerUrl,modelUrl,wasmBase}, pipeline:TrackingPipeline, stats:object,
   *          trackRate:RateMeter, onParams:(params:object, captureTs:number)=>void}} opts
   */
  constructor({ ui, tracker, pipeline, stats, trackRate, onParams, onMicTrack = () => {} }) {
    this.ui = ui;
    this.trackerCfg = tracker;
    this.pipeline = pipeline;
    this.stats = stats;
    this.trackRate = trackRate;
    this.onParams = onParams;
    this.onMicTrack = onMicTrack; // a new microphone track to send (the picker switched devices)
    this.tracker = null;
    this.cameraDevice = localStorage.getItem(CAMERA_DEVICE_PREF) || "";
    this.micDevice = localStorage.getItem(MIC_DEVICE_PREF) || "";
    this.framingOn = false;
    this.framingStream = null;
    this.cameraOn = localStorage.getItem(CAMERA_PREF) !== "off";
    this.lastResultAt = -Infinity;
    this.trackingQuality = null; // {inputWidth, inputHeight, trackFps} from adaptive quality
    this.mic = null;
    this.micMuted = false;
    this.speaking = null;
    this.body = null; // BodyTracking while the actor tracks body or hands
    this.bodyRateHz = null; // adaptive quality's body rate (null: the tracker's own)
    this.poseRate = new RateMeter();
    this.handRate = new RateMeter();
  }

  // ---------------------------------------------------------------- camera and tracking
  async startCamera() {
    if (!this.cameraOn) {
      this.ui.setCameraUi(false);
      return;
    }
    let stream;
    try {
      stream = await openCamera(this.cameraDevice);
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
    if (this.trackingQuality) await this.tracker.setQuality(this.trackingQuality);
    try {
      await this.tracker.start(stream);
      this.ui.setCameraUi(true);
      this.refreshFraming();
      this.refreshBodyTracking();
    } catch (err) {
      this.tracker.stop();
      this.tracker = null;
      this.ui.setCameraUi(false);
      this.ui.showMessage(err.code || "model_failed", "error");
    }
  }

  /** Adaptive quality: the tracker's input size and rate, now and for trackers started later. */
  async setTrackingQuality({ inputWidth, inputHeight, trackFps }) {
    this.trackingQuality = { inputWidth, inputHeight, trackFps };
    if (this.tracker) await this.tracker.setQuality(this.trackingQuality);
  }

  /**
   * Start or stop body/hand tracking to match the actor's flags (pipeline.settings). Runs beside
   * the face tracker, on clones of its camera track. Not started while adaptive quality has the
   * body rate at 0 (off); once running, a rate of 0 pauses the trackers (setBodyRate).
   */
  async refreshBodyTracking() {
    const s = this.pipeline.settings;
    const want = Boolean(this.tracker && this.tracker.stream && (s.bodyTracking || s.handTracking));
    const hands = Boolean(s.handTracking);
    if (this.body && (!want || this.body.handsOn !== hands)) {
      this.body.stop();
      this.body = null;
      this.pipeline.params.hasBody = false;
    }
    if (!want || this.body) {
      if (this.body) this.body.configure(s);
      return;
    }
    if (this.bodyRateHz === 0) return;
    const cfg = this.trackerCfg;
    const body = new BodyTracking({
      workerUrl: new URL("body_worker.js", new URL(cfg.workerUrl, location.href)).href,
      base: new URL("mediapipe-legacy/", new URL(cfg.workerUrl, location.href)).href,
      poseRate: this.poseRate,
      handRate: this.handRate,
      onBody: (b) => {
        if (this.bodyRateHz === 0) return; // a result still on its way when the trackers paused
        const p = this.pipeline.params;
        copyBody(p, { body: b, hasBody: true });
        // Face results (30 Hz) carry it out; when hands only are tracked, the arms stay at rest.
      },
      onError: () => this.ui.showMessage("body_tracking_failed", "warning"),
    });
    body.handsOn = hands;
    body.configure(s);
    if (this.bodyRateHz) body.rateHz = this.bodyRateHz;
    this.body = body;
    try {
      await body.start(this.tracker.stream.getVideoTracks()[0], { hands });
    } catch (err) {
      console.warn("body tracking failed to start", err);
      body.stop();
      if (this.body === body) this.body = null;
      this.ui.showMessage("body_tracking_failed", "warning");
    }
  }

  /** The actor tracks body or hands and the camera runs (whatever adaptive quality did to them). */
  bodyWanted() {
    const s = this.pipeline.settings;
    if (!this.tracker || !(s.bodyTracking || s.handTracking)) return false;
    // Not while the models still load (that load is no reason to turn them down), unless adaptive
    // quality turned them off itself.
    return this.bodyRateHz === 0 || Boolean(this.body && this.body.ready);
  }

  /** The camera's own frame rate (its settings), or null while it is off or unknown. */
  cameraFps() {
    const track = this.tracker && this.tracker.stream && this.tracker.stream.getVideoTracks()[0];
    const fps = track && track.getSettings ? track.getSettings().frameRate : null;
    return fps > 0 ? fps : null;
  }

  /**
   * Adaptive quality: the body trackers' rate; 0 pauses them (the avatar's arms relax). Paused,
   * not stopped: their models stay loaded, so coming back costs no reload. A reload took the
   * face tracker's CPU for two seconds, which made the face short and turned the body off again.
   */
  setBodyRate(hz) {
    const was = this.bodyRateHz;
    this.bodyRateHz = hz;
    if (was === hz) return;
    if (this.body) {
      this.body.setRate(hz);
      if (hz === 0) this.pipeline.params.hasBody = false;
    } else if (hz > 0) {
      this.refreshBodyTracking();
    }
  }

  stopCamera() {
    if (this.body) this.body.stop();
    this.body = null;
    this.pipeline.params.hasBody = false;
    if (this.tracker) this.tracker.stop();
    this.tracker = null;
    this.ui.setCameraUi(false);
    this.refreshFraming();
  }

  /** The camera in use (or chosen, while tracking is off). */
  cameraDeviceId() {
    const stream = this.tracker && this.tracker.stream;
    return (stream && trackDeviceId(stream.getVideoTracks()[0])) || this.cameraDevice;
  }

  micDeviceId() {
    return trackDeviceId(this.micTrack()) || this.micDevice;
  }

  // ---------------------------------------------------------------- device pickers
  /** Cameras and microphones with their labels (labels are empty before permission). */
  async listDevices() {
    const out = { cameras: [], mics: [] };
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return out;
    try {
      for (const d of await navigator.mediaDevices.enumerateDevices()) {
        if (d.kind === "videoinput") out.cameras.push({ id: d.deviceId, label: d.label });
        else if (d.kind === "audioinput") out.mics.push({ id: d.deviceId, label: d.label });
      }
    } catch {
      /* no list: the pickers stay empty and the defaults are used */
    }
    return out;
  }

  /** The picker chose a camera: remembered, and tracking restarts on it when it runs. */
  async setCameraDevice(id) {
    this.cameraDevice = id || "";
    localStorage.setItem(CAMERA_DEVICE_PREF, this.cameraDevice);
    if (!this.tracker) return;
    this.stopCamera();
    await this.startCamera();
  }

  /** The picker chose a microphone: remembered, opened, and swapped into the call without renegotiation. */
  async setMicDevice(id) {
    this.micDevice = id || "";
    localStorage.setItem(MIC_DEVICE_PREF, this.micDevice);
    let next;
    try {
      next = await openMic(this.micDevice);
    } catch (err) {
      this.ui.showMessage(err && err.name === "NotAllowedError" ? "mic_denied" : "device_failed", "warning");
      return;
    }
    const old = this.mic;
    const oldSpeaking = this.speaking;
    this.mic = next;
    const track = this.micTrack();
    if (track) track.enabled = !this.micMuted;
    try {
      this.speaking = new SpeakingDetector(next);
    } catch {
      this.speaking = null;
    }
    await this.onMicTrack(track);
    if (old) for (const t of old.getTracks()) t.stop();
    if (oldSpeaking) oldSpeaking.close();
  }

  // ---------------------------------------------------------------- framing preview
  setFraming(on) {
    this.framingOn = Boolean(on);
    this.refreshFraming();
  }

  /** Show a clone of the tracked camera while the preview is on and the camera runs; else nothing. */
  refreshFraming() {
    const stream = this.tracker && this.tracker.stream;
    const want = this.framingOn && stream;
    const source = want ? stream.getVideoTracks()[0] : null;
    if (this.framingStream && (!want || this._framingSource !== source)) {
      for (const t of this.framingStream.getTracks()) t.stop();
      this.framingStream = null;
    }
    if (want && !this.framingStream && source) {
      this.framingStream = new MediaStream([source.clone()]);
      this._framingSource = source;
    }
    this.ui.showFraming(this.framingOn, this.framingStream);
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
    if (r.width) s.trackerInput = [r.width, r.height];
    this.lastResultAt = nowMs();
    if (r.found) {
      s.trackingFaces += 1;
      // Raw roll before calibration and smoothing: the reference the receiver's roll is compared with,
      // keyed by the timestamp exactly as the wire carries it (rounding instead would miss half the pairs).
      s.sentRoll.push([wireTimestamp(r.ts), poseFromMatrix(r.matrix).rotation[2]]);
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
      this.mic = await openMic(this.micDevice);
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
    this.framingOn = false;
    this.stopCamera();
    if (this.mic) for (const t of this.mic.getTracks()) t.stop();
    if (this.speaking) this.speaking.close();
  }
}
