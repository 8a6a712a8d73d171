// The call page (templates/rooms/call.html), wired from its parts:
//   session.js        signaling and the peer state machine (no DOM)
//   sender.js         our parameter frames out over the "params" DataChannel
//   remote_avatar.js  the other person's avatar, loaded and driven by their frames
//   ui.js             everything in the DOM
// What stays here: our own avatar choice, camera/tracking and microphone, and the glue.
//
// Measurement hooks for tests and bench/browser_call.py live on window.__afStats (stats.js).
import { DEFAULT_2D_KEY, getCharacter, isBuiltinKey } from "../avatar/characters2d.js";
import { AvatarView } from "../avatar/view.js";
import { withCsrf } from "../csrf.js";
import { wsUrl } from "../ws.js";
import { ShortcutState } from "../tracking/actor_settings.js";
import { TrackingPipeline } from "../tracking/pipeline.js";
import { poseFromMatrix } from "../tracking/pose.js";
import { FaceTracker, openCamera } from "../tracking/tracker.js";
import { fetchOwnAsset, sendAsset } from "./asset.js";
import { SpeakingDetector, openMic } from "./audio.js";
import { ClockSync, nowMs } from "./clock.js";
import { FRAME_BYTES } from "./frame_codec.js";
import { FrameReceiver } from "./receiver.js";
import { RemoteAvatar } from "./remote_avatar.js";
import { ParamSender } from "./sender.js";
import { CallSession } from "./session.js";
import { RateMeter, SampleBuffer, exposeStats, percentile } from "./stats.js";
import { CallUi, readJson } from "./ui.js";

const AVATAR_PREF = "af.call.avatar";
const CAMERA_PREF = "af.call.camera";
// Draw-rate caps per avatar kind. A 2D draw is cheap: the other person's 2D avatar glides at the
// display's rate. A VRM is drawn once per new frame (at most 30 fps). Under software GL a VRM
// draw costs ~15-25 ms of CPU that face tracking needs, and the tracking rate is the other
// person's avatar rate: our own small VRM preview is drawn at 10 fps there (measured on two
// cores: ~+3 tracking fps against 15 fps).
const REMOTE_MAX_FPS = { vrm: 30 };
const LOCAL_MAX_FPS = { "2d": 30, vrm: 30, "vrm-software": 10 };
const LEAVE_AFTER_HANGUP_MS = 1200; // long enough to read "the other person left"

/** Our avatar's license as announced (bounded: the server caps the description's size). */
function licenseFor(av) {
  const lic = av.license || {};
  return {
    name: String(lic.name || "").slice(0, 120),
    authors: (lic.authors || []).slice(0, 5).map((a) => String(a).slice(0, 80)),
    url: String(lic.url || lic.otherLicenseUrl || "").slice(0, 300),
    card: (av.licenseCard || []).slice(0, 12).map((r) => ({
      key: String(r.key).slice(0, 40), state: String(r.state).slice(0, 16),
      label: String(r.label).slice(0, 60), value: String(r.value).slice(0, 120),
    })),
  };
}

export class CallApp {
  constructor(root) {
    this.root = root;
    const d = root.dataset;
    this.cfg = { wsPath: d.wsPath, practiceUrl: d.practiceUrl, lobbyUrl: d.lobbyUrl || "/rooms/", workerUrl: d.workerUrl, modelUrl: d.modelUrl, wasmBase: d.wasmBase };
    this.ui = new CallUi(root);
    this.t = this.ui.t;
    this.actors = (readJson("call-actors", []) || []).filter((a) => a && a.avatar);
    this.pipeline = new TrackingPipeline();
    this.shortcuts = new ShortcutState(this.pipeline.settings);
    this.trackRate = new RateMeter();
    this.stats = {
      framesReceived: 0, faceFramesReceived: 0, frameBytes: FRAME_BYTES,
      latency: new SampleBuffer(4000),
      sentRoll: new SampleBuffer(4000), // [captureTs, raw tracked roll]
      recvRoll: new SampleBuffer(4000), // [senderTs, received roll]
      recvSmile: new SampleBuffer(4000),
      trackingResults: 0, trackingFaces: 0,
      trackingProcMs: 0, trackingQueueMs: 0, // sums over the results: detectForVideo time, frame wait
      rtt: null,
    };
    this.session = new CallSession({
      url: wsUrl(this.cfg.wsPath),
      iceServers: readJson("ice-servers", []),
      getMicTrack: () => this.micTrack(),
      events: this.sessionEvents(),
    });
    this.clock = new ClockSync((msg) => this.session.sendControl(msg));
    this.localReceiver = new FrameReceiver(); // the preview shows exactly what we send (quantized)
    this.sender = new ParamSender({ getChannel: () => this.session.channel("params"), localReceiver: this.localReceiver });
    this.remote = new RemoteAvatar({
      ui: this.ui, clock: this.clock, stats: this.stats,
      sendControl: (msg) => this.session.sendControl(msg), ownVrm: () => this.ownVrm,
    });
    this.lastResultAt = -Infinity;
    this.tracker = null;
    this.cameraOn = localStorage.getItem(CAMERA_PREF) !== "off";
    this.mic = null;
    this.micMuted = false;
    this.speaking = null;
    this.ownVrm = null; // {hash, buffer} of our current VRM avatar
    this.localAvatar = null;
    this.leaving = false;
    exposeStats(this);
  }

  sessionEvents() {
    const ui = this.ui;
    return {
      onState: (s) => ui.setState(s),
      onNotice: (code, level, text) => ui.showMessage(code, level, text),
      onClearNotice: (code) => ui.clearMessage(code),
      onRemoteAvatar: (avatar) => this.remote.show(avatar),
      onPractice: () => this.remote.show(this.localAvatar),
      onRemoteReset: () => this.remote.reset(),
      onPeerLeft: (reason) => {
        if (reason === "hangup") setTimeout(() => this.leave({ hangup: true }), LEAVE_AFTER_HANGUP_MS);
      },
      onPeerClosed: () => this.clock.stop(),
      onChannel: (label, ch) => this.wireChannel(label, ch),
      onRemoteAudio: (stream) => ui.playRemoteAudio(stream),
    };
  }

  // ---------------------------------------------------------------- setup
  async start() {
    this.ui.buildAvatarPicker(this.actors);
    this.localView = new AvatarView(this.ui.el("local-stage"), {
      source: (t) => this.localReceiver.sample(t),
      needsRender: (t) => {
        this.localReceiver.interpolate = this.localView.kind !== "vrm"; // VRM: each frame's pose as it is
        return this.localReceiver.needsRender(t);
      },
      mirror: true,
      maxFps: LOCAL_MAX_FPS, // the small preview needs less; the CPU goes to tracking and the other avatar
      onFallback: (code) => this.ui.showMessage(code, "warning"),
    });
    this.remoteView = new AvatarView(this.ui.el("remote-stage"), {
      source: (t) => this.remote.source(t),
      needsRender: (t) => this.remote.needsRender(t),
      onRendered: (t) => this.remote.onRendered(t),
      maxFps: REMOTE_MAX_FPS,
      onFallback: (code) => this.ui.showMessage(code, "warning"),
    });
    this.remote.attach(this.remoteView);
    this.localView.start();
    this.remoteView.start();
    this.bindControls();
    await this.applyAvatarChoice(this.currentChoice(), { announce: false });
    this.ui.setState("waiting");
    await Promise.all([this.startCamera(), this.startMic()]);
    this.session.connect();
    // Idle frames when no tracking result came recently (camera off, refused, face lost).
    this.idleTimer = setInterval(() => {
      const now = nowMs();
      if (now - this.lastResultAt > 150) this.onParams(this.pipeline.tick(now), now);
    }, 1000 / 30);
    this.uiTimer = setInterval(() => this.updatePanel(), 500);
    window.addEventListener("beforeunload", () => this.teardown({ hangup: true }));
  }

  // ---------------------------------------------------------------- our avatar
  currentChoice() {
    const saved = localStorage.getItem(AVATAR_PREF);
    if (saved && (isBuiltinKey(saved) || this.actorFor(saved))) return saved;
    // Someone who made a VRM actor wants to be seen as it; built-in 2D is the fallback.
    if (this.actors.length) return `actor:${this.actors[0].id}`;
    return DEFAULT_2D_KEY;
  }

  actorFor(choice) {
    if (!choice || !choice.startsWith("actor:")) return null;
    const id = choice.slice(6);
    return this.actors.find((a) => String(a.id) === id) || null;
  }

  async applyAvatarChoice(choice, { announce = true } = {}) {
    this.ui.setAvatarChoice(choice);
    localStorage.setItem(AVATAR_PREF, choice);
    const actor = this.actorFor(choice);
    this.pipeline.setSettings(actor ? actor.settings : {});
    this.shortcuts.setSettings(this.pipeline.settings);
    this.ui.renderShortcutHelp(this.pipeline.settings.shortcuts);
    if (!actor) {
      this.ownVrm = null;
      this.localView.show2d(choice);
      this.localAvatar = { renderer: "2d", fileHash: null, id: choice, name: getCharacter(choice).name, license: null };
    } else {
      const av = actor.avatar;
      this.ui.setBusy(true);
      try {
        const buffer = await fetchOwnAsset(av.fileUrl, av.fileHash);
        this.ownVrm = { hash: av.fileHash, buffer };
        await this.localView.showVrm(buffer.slice(0));
      } catch (err) {
        this.ownVrm = null;
        this.localView.show2d(DEFAULT_2D_KEY);
        this.ui.showMessage(err && err.code === "avatar_hash_mismatch" ? "vrm_failed" : "avatar_download_failed", "warning");
      } finally {
        this.ui.setBusy(false);
      }
      this.localAvatar = this.ownVrm
        ? { renderer: "vrm", fileHash: av.fileHash, id: String(av.id), name: av.name, license: licenseFor(av) }
        : { renderer: "2d", fileHash: null, id: DEFAULT_2D_KEY, name: getCharacter(DEFAULT_2D_KEY).name, license: null };
    }
    this.session.setLocalAvatar(this.localAvatar, { announce });
    if (this.session.practice) this.remote.show(this.localAvatar);
  }

  // ---------------------------------------------------------------- camera, tracking, mic
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
      workerUrl: this.cfg.workerUrl, modelUrl: this.cfg.modelUrl, wasmBase: this.cfg.wasmBase,
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

  onTrackerResult(r) {
    this.stats.trackingProcMs += r.procMs || 0;
    this.stats.trackingQueueMs += r.queueMs || 0;
    this.trackRate.mark();
    this.stats.trackingResults += 1;
    this.lastResultAt = nowMs();
    if (r.found) {
      this.stats.trackingFaces += 1;
      // Raw roll before calibration and smoothing: the reference the receiver's roll is compared with.
      this.stats.sentRoll.push([Math.round(r.ts) % 4294967296, poseFromMatrix(r.matrix).rotation[2]]);
    }
    this.onParams(this.pipeline.fromResult(r), r.ts);
  }

  /** Every new parameter set (tracking or idle): speaking and held expressions, then out. */
  onParams(params, captureTs) {
    params.speaking = this.speaking ? this.speaking.update(!this.micMuted) : false;
    params.expressions = this.shortcuts.weights();
    this.sender.push(params, captureTs);
  }

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

  // ---------------------------------------------------------------- DataChannels
  wireChannel(label, ch) {
    if (label === "params") {
      ch.onmessage = (e) => this.remote.onFrame(e.data);
    } else if (label === "control") {
      ch.onmessage = (e) => this.onControlMessage(e.data);
      const opened = () => {
        this.clock.start();
        const weights = this.shortcuts.weights();
        if (Object.keys(weights).length) this.session.sendControl({ t: "expr", weights });
        this.remote.requestPending();
      };
      if (ch.readyState === "open") opened();
      else ch.onopen = opened;
    } else if (label === "asset") {
      this.remote.wireAssetChannel(ch);
    }
  }

  onControlMessage(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (!msg || typeof msg !== "object") return;
    if (this.clock.handle(msg)) return;
    if (msg.t === "expr" && msg.weights && typeof msg.weights === "object") {
      this.remote.setExpressions(msg.weights);
    } else if (msg.t === "asset_req" && this.ownVrm && msg.hash === this.ownVrm.hash) {
      const ch = this.session.channel("asset");
      if (ch) sendAsset(ch, this.ownVrm.hash, this.ownVrm.buffer);
    }
  }

  // ---------------------------------------------------------------- controls
  bindControls() {
    this.ui.bindControls({
      avatar: (choice) => this.applyAvatarChoice(choice),
      mute: () => this.toggleMute(),
      camera: () => this.toggleCamera(),
      calibrate: () => this.calibrate(),
      hangup: () => this.leave({ hangup: true }),
      practice: () => this.startPractice(),
      keydown: (e) => {
        if (this.shortcuts.keydown(e)) {
          e.preventDefault();
          this.onShortcutsChanged();
        }
      },
      keyup: (e) => {
        if (this.shortcuts.keyup(e)) this.onShortcutsChanged();
      },
      blur: () => {
        if (this.shortcuts.clear()) this.onShortcutsChanged();
      },
    });
  }

  onShortcutsChanged() {
    const weights = this.shortcuts.weights();
    this.localReceiver.expressions = weights;
    this.session.sendControl({ t: "expr", weights });
    this.ui.setExpressionNames(Object.keys(weights));
  }

  toggleMute() {
    const track = this.micTrack();
    if (!track) return;
    this.micMuted = !this.micMuted;
    track.enabled = !this.micMuted;
    this.ui.setMuted(this.micMuted);
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

  async calibrate() {
    this.ui.setCalibrateEnabled(false);
    this.ui.showMessage("calibrating", "info");
    const ok = await this.pipeline.calibration.begin(1200);
    this.ui.clearMessage("calibrating");
    this.ui.showMessage(ok ? "calibrated" : "calibration_failed", ok ? "success" : "warning");
    setTimeout(() => this.ui.clearMessage(ok ? "calibrated" : "calibration_failed"), 3000);
    this.ui.setCalibrateEnabled(Boolean(this.tracker));
  }

  async startPractice() {
    this.ui.setPracticeEnabled(false);
    this.session.requestPractice(true);
    const refused = (code, text) => {
      this.session.requestPractice(false);
      this.ui.showMessage(code, "error", text);
      this.ui.setPracticeEnabled(true);
    };
    try {
      const res = await fetch(this.cfg.practiceUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: withCsrf({ "Content-Type": "application/json", Accept: "application/json" }, this.root),
        body: "{}",
      });
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        refused(body.code || "practice_unavailable", body.message);
        return;
      }
      this.ui.showMessage("practice_starting", "info");
      setTimeout(() => this.ui.clearMessage("practice_starting"), 6000);
    } catch {
      refused("network_lost");
    }
  }

  teardown({ hangup }) {
    if (this.leaving) return;
    this.leaving = true;
    clearInterval(this.idleTimer);
    clearInterval(this.uiTimer);
    this.session.close({ hangup });
    this.stopCamera();
    if (this.mic) for (const t of this.mic.getTracks()) t.stop();
    if (this.speaking) this.speaking.close();
  }

  leave({ hangup }) {
    this.teardown({ hangup });
    window.location.assign(this.cfg.lobbyUrl);
  }

  // ---------------------------------------------------------------- stats panel
  async updatePanel() {
    const s = this.stats;
    const peer = this.session.peer;
    if (peer) s.rtt = await peer.rttMs();
    const lat = s.latency.recent(300);
    const rx = this.remote.receiver;
    const rf = rx.lastFrame;
    const remotePeer = this.session.remotePeer;
    this.ui.updatePanel({
      rtt: s.rtt,
      tracking: Boolean(this.tracker),
      trackingFps: this.trackRate.rate(),
      renderFpsLocal: this.localView.fps(),
      renderFpsRemote: this.remoteView.fps(),
      latencyP50: percentile(lat, 50),
      latencyP95: percentile(lat, 95),
      framesReceived: s.framesReceived,
      framesSent: this.sender.framesSent,
      frameBytes: s.frameBytes,
      localSpeaking: Boolean(this.speaking && this.speaking.speaking && !this.micMuted),
      remoteSpeaking: Boolean(rf && rf.speaking && !rx.stalled()),
      localFaceLost: Boolean(this.tracker && this.sender.lastFaceLost),
      remoteFaceLost: Boolean(rf && rf.face_lost),
      remoteStalled: rx.stalled(),
      remoteName: remotePeer ? remotePeer.name || "" : "",
    });
  }
}
