// The call page (templates/rooms/call.html), wired from its parts:
//   session.js        signaling and the peer state machine (no DOM)
//   sender.js         our parameter frames out over the "params" DataChannel
//   remote_avatar.js  the other person's avatar, loaded and driven by their frames
//   local_avatar.js   our avatar choice and preview; local_media.js our camera/tracking and mic
//   adaptive.js       adaptive quality: the page's frame budget picks the tracking and render level
//   ui.js             everything in the DOM
// What stays here: the glue (timers, DataChannel routing, practice request, leaving).
//
// Measurement hooks for tests and bench/browser_call.py live on window.__afStats (stats.js).
import { AvatarView } from "../avatar/view.js";
import { withCsrf } from "../csrf.js";
import { wsUrl } from "../ws.js";
import { ShortcutState } from "../tracking/actor_settings.js";
import { TrackingPipeline } from "../tracking/pipeline.js";
import { AdaptiveQuality } from "./adaptive.js";
import { sendAsset } from "./asset.js";
import { CharacterVoiceStatus } from "./character_voice.js";
import { PageBargeIn } from "../chat/page_barge_in.js";
import { ClockSync, nowMs } from "./clock.js";
import { FRAME_BYTES } from "./frame_codec.js";
import { LocalAvatar } from "./local_avatar.js";
import { LocalMedia } from "./local_media.js";
import { FrameReceiver } from "./receiver.js";
import { RemoteAvatar } from "./remote_avatar.js";
import { ParamSender } from "./sender.js";
import { VoiceMouth } from "./voice_mouth.js";
import { CallSession } from "./session.js";
import { RateMeter, SampleBuffer, exposeStats, percentile } from "./stats.js";
import { CallUi, readJson } from "./ui.js";

// Draw-rate caps per avatar kind. A 2D draw is cheap: the other person's 2D avatar glides at the
// display's rate. A VRM is drawn once per new frame (at most 30 fps). Under software GL a VRM
// draw costs ~15-25 ms of CPU that face tracking needs, and the tracking rate is the other
// person's avatar rate: our own small VRM preview is drawn at 10 fps there (measured on two
// cores: ~+3 tracking fps against 15 fps).
const REMOTE_MAX_FPS = { vrm: 30 };
const LOCAL_MAX_FPS = { "2d": 30, vrm: 30, "vrm-software": 10 };
const IDLE_AFTER_MS = 150; // no tracking result for this long: idle animation frames instead

export class CallApp {
  constructor(root) {
    this.root = root;
    const d = root.dataset;
    this.cfg = { practiceUrl: d.practiceUrl, lobbyUrl: d.lobbyUrl || "/rooms/" };
    this.ui = new CallUi(root);
    this.pipeline = new TrackingPipeline();
    this.shortcuts = new ShortcutState(this.pipeline.settings);
    this.trackRate = new RateMeter();
    this.stats = {
      framesReceived: 0, faceFramesReceived: 0, frameBytes: FRAME_BYTES, frameBytesMax: 0,
      latency: new SampleBuffer(4000),
      arrival: new SampleBuffer(4000), // capture -> the frame's arrival here (tracking and network, no draw)
      sentRoll: new SampleBuffer(4000), // [captureTs, raw tracked roll]
      recvRoll: new SampleBuffer(4000), // [senderTs, received roll]
      recvSmile: new SampleBuffer(4000),
      recvJaw: new SampleBuffer(4000), // [senderTs, received jawOpen]
      trackingResults: 0, trackingFaces: 0,
      trackingProcMs: 0, trackingQueueMs: 0, // sums over the results: detectForVideo time, frame wait
      trackerInput: null, // [width, height] of the tracker's last input image
      rtt: null,
    };
    this.media = new LocalMedia({
      ui: this.ui, tracker: { workerUrl: d.workerUrl, modelUrl: d.modelUrl, wasmBase: d.wasmBase },
      pipeline: this.pipeline, stats: this.stats, trackRate: this.trackRate,
      onParams: (params, ts) => this.onParams(params, ts),
      // A new microphone from the picker: swapped into the current call (later calls ask getMicTrack).
      onMicTrack: (track) => (this.session.peer ? this.session.peer.setMicTrack(track) : null),
    });
    this.local = new LocalAvatar({
      ui: this.ui, pipeline: this.pipeline, shortcuts: this.shortcuts,
      actors: (readJson("call-actors", []) || []).filter((a) => a && a.avatar),
    });
    this.session = new CallSession({
      url: wsUrl(d.wsPath),
      iceServers: readJson("ice-servers", []),
      getMicTrack: () => this.media.micTrack(),
      events: this.sessionEvents(),
    });
    this.clock = new ClockSync((msg) => this.session.sendControl(msg));
    this.localReceiver = new FrameReceiver(); // the preview shows exactly what we send (quantized)
    this.sender = new ParamSender({
      getChannel: () => this.session.channel("params"),
      localReceiver: this.localReceiver,
      getVersion: () => (this.session ? this.session.frameVersion : 1),
    });
    this.remote = new RemoteAvatar({
      ui: this.ui, clock: this.clock, stats: this.stats,
      sendControl: (msg) => this.session.sendControl(msg), ownVrm: () => this.local.ownVrm,
    });
    this.voiceMouth = new VoiceMouth(); // the mouth follows the voice when the camera can't see it
    this.quality = new AdaptiveQuality({
      media: this.media, stats: this.stats, views: () => [this.localView, this.remoteView],
      onChange: () => this.updatePanel(),
    });
    // A call with a character: its status and what it heard you say (calls/, the "voice" channel).
    this.characterVoice = new CharacterVoiceStatus({
      status: this.ui.el("character-status"), caption: this.ui.el("character-caption"), strings: this.ui.t.character,
      showError: (code, text) => this.ui.showMessage(`character_${code}`, "warning", text),
    });
    if (new URLSearchParams(window.location.search).has("character_call")) this.characterVoice.expect();
    this.bargeStats = {};
    this.characterBargeIn = new PageBargeIn({
      vadBase: d.vadBase, micStream: () => this.media.mic, speaking: () => this.characterVoice.state === "speaking",
      stats: this.bargeStats,
    });
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
      onPractice: () => this.remote.show(this.local.description),
      onRemoteReset: () => this.remote.reset(),
      // The other person hung up or did not come back: we stay on the page, waiting (the session
      // shows "waiting"); when they (or anyone with the link) join again, the call resumes.
      onPeerClosed: () => this.clock.stop(),
      onChannel: (label, ch) => this.wireChannel(label, ch),
      onRemoteAudio: (stream) => {
        ui.playRemoteAudio(stream);
        if (this.characterBargeIn.channel) this.characterBargeIn.watchOutput(stream);
        this.remoteAudio = stream;
      },
    };
  }

  async start() {
    this.ui.buildAvatarPicker(this.local.actors);
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
    this.local.view = this.localView;
    this.remote.attach(this.remoteView);
    this.localView.start();
    this.remoteView.start();
    this.quality.start();
    this.bindControls();
    await this.applyAvatarChoice(this.local.currentChoice(), { announce: false });
    this.ui.setState("waiting");
    await Promise.all([this.media.startCamera(), this.media.startMic()]);
    this.session.connect();
    // Device labels are readable once the camera or microphone was allowed, so list them now.
    await this.refreshDevices();
    if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
      navigator.mediaDevices.addEventListener("devicechange", () => this.refreshDevices());
    }
    // Idle frames when no tracking result came recently (camera off, refused, face lost).
    this.idleTimer = setInterval(() => {
      const now = nowMs();
      if (now - this.media.lastResultAt > IDLE_AFTER_MS) this.onParams(this.pipeline.tick(now), now);
    }, 1000 / 30);
    this.uiTimer = setInterval(() => this.updatePanel(), 500);
    // A reload or a closed tab is not a hang-up: the server holds our seat for the grace period,
    // the other side shows "Reconnecting" and the reloaded page resumes the call. Only the
    // Hang up button (leave()) tells the other side we are gone for good.
    window.addEventListener("pagehide", () => this.teardown({ hangup: false }));
  }

  async refreshDevices() {
    const devices = await this.media.listDevices();
    this.ui.buildDevicePickers(devices, { camera: this.media.cameraDeviceId(), mic: this.media.micDeviceId() });
  }

  async applyAvatarChoice(choice, { announce = true } = {}) {
    const avatar = await this.local.apply(choice);
    if (this.media) this.media.refreshBodyTracking(); // the actor's body/hand flags
    this.session.setLocalAvatar(avatar, { announce });
    if (this.session.practice) this.remote.show(avatar);
  }

  /** Every new parameter set (tracking or idle): speaking, the voice's mouth and held expressions, then out. */
  onParams(params, captureTs) {
    params.speaking = this.media.speakingNow();
    this.voiceMouth.apply(params, {
      level: this.media.voiceLevel(),
      faceTracked: Boolean(this.media.tracker) && !params.faceLost,
      t: captureTs,
    });
    params.expressions = this.shortcuts.weights();
    this.sender.push(params, captureTs);
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
    } else if (label === "voice") {
      // Only a character opens this channel: its voice is what the echo guard listens for.
      this.characterVoice.attach(ch);
      if (this.remoteAudio) this.characterBargeIn.watchOutput(this.remoteAudio);
      this.characterBargeIn.attach(ch);
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
    const own = this.local.ownVrm;
    if (msg.t === "expr" && msg.weights && typeof msg.weights === "object") {
      this.remote.setExpressions(msg.weights);
    } else if (msg.t === "asset_req" && own && msg.hash === own.hash) {
      const ch = this.session.channel("asset");
      if (ch) sendAsset(ch, own.hash, own.buffer);
    }
  }

  // ---------------------------------------------------------------- controls
  bindControls() {
    const changed = (yes) => {
      if (yes) this.onShortcutsChanged();
      return yes;
    };
    this.ui.bindControls({
      avatar: (choice) => this.applyAvatarChoice(choice),
      mute: () => this.media.toggleMute(),
      camera: () => this.media.toggleCamera(),
      cameraDevice: (id) => this.media.setCameraDevice(id).then(() => this.refreshDevices()),
      micDevice: (id) => this.media.setMicDevice(id).then(() => this.refreshDevices()),
      framing: () => this.media.setFraming(!this.media.framingOn),
      calibrate: () => this.media.calibrate(),
      hangup: () => this.leave({ hangup: true }),
      practice: () => this.startPractice(),
      keydown: (e) => {
        if (changed(this.shortcuts.keydown(e))) e.preventDefault();
      },
      keyup: (e) => changed(this.shortcuts.keyup(e)),
      blur: () => changed(this.shortcuts.clear()),
    });
  }

  onShortcutsChanged() {
    const weights = this.shortcuts.weights();
    this.localReceiver.expressions = weights;
    this.session.sendControl({ t: "expr", weights });
    this.ui.setExpressionNames(Object.keys(weights));
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
    this.quality.stop();
    this.session.close({ hangup });
    this.characterBargeIn.stop();
    this.media.close();
  }

  leave({ hangup }) {
    this.teardown({ hangup });
    window.location.assign(this.cfg.lobbyUrl);
  }

  async updatePanel() {
    const s = this.stats;
    const peer = this.session.peer; // it may be replaced or closed while we await its stats
    if (peer) s.rtt = await peer.rttMs();
    // Alone (before anyone came, or after they left): the other side's figures are not shown as
    // if they were current.
    const remotePeer = this.session.remotePeer;
    const alone = !remotePeer;
    const lat = alone ? [] : s.latency.recent(300);
    const rx = this.remote.receiver;
    const rf = rx.lastFrame;
    const tracking = Boolean(this.media.tracker);
    this.ui.updatePanel({
      rtt: alone ? null : s.rtt, tracking, trackingFps: this.trackRate.rate(),
      bodyTracking: Boolean(this.media.body), bodyTrackingFps: this.media.poseRate.rate(),
      handTracking: Boolean(this.media.body && this.media.body.handsOn), handTrackingFps: this.media.handRate.rate(),
      renderFpsLocal: this.localView.fps(), renderFpsRemote: this.remoteView.fps(),
      latencyP50: percentile(lat, 50), latencyP95: percentile(lat, 95),
      framesReceived: s.framesReceived, framesSent: this.sender.framesSent, frameBytes: s.frameBytes,
      localSpeaking: this.media.isSpeaking(),
      remoteSpeaking: Boolean(rf && rf.speaking && !rx.stalled()),
      localFaceLost: tracking && this.sender.lastFaceLost,
      remoteFaceLost: Boolean(rf && rf.face_lost),
      remoteStalled: rx.stalled(),
      remoteName: remotePeer ? remotePeer.name || "" : "",
      quality: this.quality.snapshot(),
    });
  }
}
