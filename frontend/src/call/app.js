// The call page (templates/rooms/call.html): face tracking -> parameters -> local preview and
// DataChannel frames; frames from the other side -> interpolated remote avatar; signaling,
// microphone, avatar switching, practice partner, failure messages, stats panel.
//
// Measurement hooks for tests and bench/browser_call.py live on window.__afStats (numbers only).
import { BUILTIN_CHARACTERS, DEFAULT_2D_KEY, getCharacter, isBuiltinKey } from "../avatar/characters2d.js";
import { createParams, copyParams, frameFields } from "../avatar/params.js";
import { AvatarView } from "../avatar/view.js";
import { BS, FRAME_BYTES, encodeFrame } from "./frame_codec.js";
import { ShortcutState } from "../tracking/actor_settings.js";
import { TrackingPipeline } from "../tracking/pipeline.js";
import { poseFromMatrix } from "../tracking/pose.js";
import { FaceTracker, openCamera } from "../tracking/tracker.js";
import { AssetReceiver, cachedAsset, fetchOwnAsset, sendAsset } from "./asset.js";
import { SpeakingDetector, openMic } from "./audio.js";
import { ClockSync, nowMs } from "./clock.js";
import { CallPeer } from "./peer.js";
import { FrameReceiver } from "./receiver.js";
import { SignalingClient } from "./signaling.js";
import { RateMeter, SampleBuffer, percentile } from "./stats.js";

const AVATAR_PREF = "af.call.avatar";
const CAMERA_PREF = "af.call.camera";
const SEND_RATE_HZ = 30; // parameter frames per second at most (camera rate)
const SEND_BURST = 2; // a result that comes early after a late one is still sent (see onParams)
// Draw-rate caps per avatar kind. A 2D draw is cheap: the other person's 2D avatar glides at the
// display's rate. A VRM is drawn once per new frame (at most 30 fps). Under software GL a VRM
// draw costs ~15-25 ms of CPU that face tracking needs, and the tracking rate is the other
// person's avatar rate: our own small VRM preview is drawn at 10 fps there (measured on two
// cores: ~+3 tracking fps against 15 fps).
const REMOTE_MAX_FPS = { vrm: 30 };
const LOCAL_MAX_FPS = { "2d": 30, vrm: 30, "vrm-software": 10 };

function readJson(id, fallback) {
  const el = document.getElementById(id);
  if (!el) return fallback;
  try {
    const v = JSON.parse(el.textContent);
    return v === null || v === "" ? fallback : v;
  } catch {
    return fallback;
  }
}

/** Translated strings rendered by the template as <span data-k="a.b">text</span>. */
function readStrings(root) {
  const out = {};
  const box = root.querySelector('[data-el="i18n"]');
  if (!box) return out;
  for (const span of box.querySelectorAll("[data-k]")) {
    const path = span.dataset.k.split(".");
    let node = out;
    for (const part of path.slice(0, -1)) node = node[part] = node[part] || {};
    node[path[path.length - 1]] = span.textContent.trim();
  }
  return out;
}

function csrfToken(root) {
  const fromAttr = root.dataset.csrf;
  if (fromAttr) return fromAttr;
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

export class CallApp {
  constructor(root) {
    this.root = root;
    const d = root.dataset;
    this.cfg = {
      wsPath: d.wsPath,
      practiceUrl: d.practiceUrl,
      lobbyUrl: d.lobbyUrl || "/rooms/",
      workerUrl: d.workerUrl,
      modelUrl: d.modelUrl,
      wasmBase: d.wasmBase,
      guestName: d.guestName || "",
    };
    this.t = readStrings(root);
    this.iceServers = readJson("ice-servers", []);
    this.actors = (readJson("call-actors", []) || []).filter((a) => a && a.avatar);
    this.el = (name) => root.querySelector(`[data-el="${name}"]`);

    this.pipeline = new TrackingPipeline();
    this.shortcuts = new ShortcutState(this.pipeline.settings);
    this.localReceiver = new FrameReceiver(); // the preview shows exactly what we send (quantized)
    this.receiver = new FrameReceiver();
    this.clock = new ClockSync((msg) => this.sendControl(msg));
    this.trackRate = new RateMeter();
    this.sendBuf = new Uint8Array(FRAME_BYTES);
    this.seq = 0;
    this.sendTokens = SEND_BURST; // token bucket: SEND_RATE_HZ on average, bursts of SEND_BURST
    this.lastRefill = -Infinity;
    this.lastResultAt = -Infinity;
    this.tracker = null;
    this.cameraOn = localStorage.getItem(CAMERA_PREF) !== "off";
    this.mic = null;
    this.micMuted = false;
    this.speaking = null;
    this.peer = null;
    this.signaling = null;
    this.joined = null;
    this.remotePeer = null;
    this.remoteAvatar = null;
    this.practice = false;
    this.leaving = false;
    this.ownVrm = null; // {hash, buffer} of our current VRM avatar
    this.pendingAsset = null;
    this.messages = new Map();
    this.stats = {
      framesSent: 0,
      framesReceived: 0,
      faceFramesReceived: 0,
      frameBytes: FRAME_BYTES,
      latency: new SampleBuffer(4000),
      sentRoll: new SampleBuffer(4000), // [captureTs, raw tracked roll]
      recvRoll: new SampleBuffer(4000), // [senderTs, received roll]
      recvSmile: new SampleBuffer(4000),
      trackingResults: 0,
      trackingFaces: 0,
      trackingProcMs: 0, // sums over the results: detectForVideo time, frame wait before it
      trackingQueueMs: 0,
      rtt: null,
      connection: "new",
      signaling: "connecting",
    };
    this.exposeStats();
  }

  // ---------------------------------------------------------------- setup
  async start() {
    this.buildAvatarPicker();
    this.localView = new AvatarView(this.el("local-stage"), {
      source: (t) => this.localSource(t),
      needsRender: (t) => this.syncMode(this.localView, this.localReceiver).needsRender(t),
      mirror: true,
      maxFps: LOCAL_MAX_FPS, // the small preview needs less; the CPU goes to tracking and the other avatar
      onFallback: (code) => this.showMessage(code, "warning"),
    });
    this.remoteView = new AvatarView(this.el("remote-stage"), {
      source: (t) => this.remoteSource(t),
      needsRender: (t) => this.syncMode(this.remoteView, this.receiver).needsRender(t),
      onRendered: (t) => this.onRemoteRendered(t),
      maxFps: REMOTE_MAX_FPS,
      onFallback: (code) => this.showMessage(code, "warning"),
    });
    this.remoteView.show2d("builtin:robot");
    this.localView.start();
    this.remoteView.start();
    this.bindControls();
    await this.applyAvatarChoice(this.currentChoice(), { announce: false });
    this.setState("waiting");
    await Promise.all([this.startCamera(), this.startMic()]);
    this.startSignaling();
    // Idle frames when no tracking result came recently (camera off, refused, face lost).
    this.idleTimer = setInterval(() => {
      const now = nowMs();
      if (now - this.lastResultAt > 150) this.onParams(this.pipeline.tick(now), now);
    }, 1000 / 30);
    this.uiTimer = setInterval(() => this.updatePanel(), 500);
    window.addEventListener("beforeunload", () => this.teardown({ hangup: true }));
  }

  // ---------------------------------------------------------------- avatar choice
  buildAvatarPicker() {
    const select = this.el("avatar-select");
    select.textContent = "";
    const g2d = document.createElement("optgroup");
    g2d.label = this.t.builtin_group || "Built-in 2D";
    for (const c of BUILTIN_CHARACTERS) {
      const o = document.createElement("option");
      o.value = c.key;
      o.textContent = (this.t.characters && this.t.characters[c.key]) || c.name;
      g2d.appendChild(o);
    }
    select.appendChild(g2d);
    if (this.actors.length) {
      const gv = document.createElement("optgroup");
      gv.label = this.t.actors_group || "Your actors (VRM)";
      for (const a of this.actors) {
        const o = document.createElement("option");
        o.value = `actor:${a.id}`;
        o.textContent = `${a.name} · ${a.avatar.name}`;
        gv.appendChild(o);
      }
      select.appendChild(gv);
    }
  }

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
    const select = this.el("avatar-select");
    select.value = choice;
    localStorage.setItem(AVATAR_PREF, choice);
    const actor = this.actorFor(choice);
    this.pipeline.setSettings(actor ? actor.settings : {});
    this.shortcuts.setSettings(this.pipeline.settings);
    this.renderShortcutHelp();
    if (!actor) {
      this.ownVrm = null;
      this.localView.show2d(choice);
      this.localAvatar = { renderer: "2d", fileHash: null, id: choice, name: getCharacter(choice).name, license: null };
    } else {
      const av = actor.avatar;
      this.setBusy(true);
      try {
        const buffer = await fetchOwnAsset(av.fileUrl, av.fileHash);
        this.ownVrm = { hash: av.fileHash, buffer };
        await this.localView.showVrm(buffer.slice(0));
      } catch (err) {
        this.ownVrm = null;
        this.localView.show2d(DEFAULT_2D_KEY);
        this.showMessage(err && err.code === "avatar_hash_mismatch" ? "vrm_failed" : "avatar_download_failed", "warning");
      } finally {
        this.setBusy(false);
      }
      this.localAvatar = this.ownVrm
        ? { renderer: "vrm", fileHash: av.fileHash, id: String(av.id), name: av.name, license: this.licenseFor(av) }
        : { renderer: "2d", fileHash: null, id: DEFAULT_2D_KEY, name: getCharacter(DEFAULT_2D_KEY).name, license: null };
    }
    this.stats.localKind = this.localView.kind;
    if (this.practice) this.showRemoteAvatar(this.localAvatar);
    if (announce) this.announceAvatar();
  }

  licenseFor(av) {
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

  announceAvatar() {
    if (!this.signaling || !this.localAvatar) return;
    let avatar = this.localAvatar;
    // The server limits the description to 4096 characters; drop the card rows if needed.
    if (JSON.stringify(avatar).length > 4000 && avatar.license) avatar = { ...avatar, license: { ...avatar.license, card: [] } };
    this.signaling.send({ type: "avatar", avatar });
  }

  // ---------------------------------------------------------------- camera, tracking, mic
  async startCamera() {
    if (!this.cameraOn) {
      this.setCameraUi(false);
      return;
    }
    let stream;
    try {
      stream = await openCamera();
    } catch (err) {
      this.cameraOn = false;
      this.setCameraUi(false);
      this.showMessage(err.code || "no_camera", "error");
      return;
    }
    this.tracker = new FaceTracker({
      workerUrl: this.cfg.workerUrl,
      modelUrl: this.cfg.modelUrl,
      wasmBase: this.cfg.wasmBase,
      onResult: (r) => this.onTrackerResult(r),
      onError: (err) => this.showMessage(err.code || "tracking_failed", "error"),
    });
    try {
      await this.tracker.start(stream);
      this.stats.trackerMode = this.tracker.mode;
      this.setCameraUi(true);
    } catch (err) {
      this.tracker.stop();
      this.tracker = null;
      this.setCameraUi(false);
      this.showMessage(err.code || "model_failed", "error");
    }
  }

  stopCamera() {
    if (this.tracker) this.tracker.stop();
    this.tracker = null;
    this.setCameraUi(false);
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
    const params = this.pipeline.fromResult(r);
    this.onParams(params, r.ts);
  }

  async startMic() {
    try {
      this.mic = await openMic();
    } catch (err) {
      this.mic = null;
      this.showMessage(err && err.name === "NotAllowedError" ? "mic_denied" : "no_mic", "warning");
      this.el("mute").disabled = true;
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

  // ---------------------------------------------------------------- sending
  /**
   * Every new parameter set (tracking or idle): preview it and send it at once (no send timer:
   * a timer would add up to one period of latency). A token bucket keeps the average at
   * SEND_RATE_HZ without dropping a result that comes early after a late one (tracking times
   * jitter on a busy machine; dropping the newest pose would show the old one for a period more).
   */
  onParams(params, captureTs) {
    const now = nowMs();
    this.sendTokens = Math.min(SEND_BURST, this.sendTokens + ((now - this.lastRefill) * SEND_RATE_HZ) / 1000);
    this.lastRefill = now;
    if (this.sendTokens < 0.9) return; // 0.9: camera frames come a hair faster than 30 Hz now and then
    this.sendTokens -= 1;
    params.speaking = this.speaking ? this.speaking.update(!this.micMuted) : false;
    params.expressions = this.shortcuts.weights();
    this.seq = (this.seq + 1) % 65536;
    const bytes = encodeFrame(frameFields(params, this.seq, Math.round(captureTs)), this.sendBuf);
    this.localReceiver.push(bytes.slice().buffer);
    this.localReceiver.expressions = params.expressions;
    this.localFaceLost = params.faceLost;
    const ch = this.peer && this.peer.channels.params;
    if (ch && ch.readyState === "open" && ch.bufferedAmount < 4096) {
      ch.send(bytes);
      this.stats.framesSent += 1;
    }
  }

  localSource(t) {
    return this.localReceiver.sample(t);
  }

  /**
   * A receiver feeding `view`: glide between frames for a 2D avatar, show each frame's pose as
   * it is for a VRM one (drawn once per frame: software GL can't afford in-between draws, and
   * a glide would show the new pose only partly at its first draw).
   */
  syncMode(view, receiver) {
    receiver.interpolate = view.kind !== "vrm";
    return receiver;
  }

  sendControl(msg) {
    const ch = this.peer && this.peer.channels.control;
    if (ch && ch.readyState === "open") ch.send(JSON.stringify(msg));
  }

  // ---------------------------------------------------------------- receiving
  remoteSource(t) {
    return this.receiver.sample(t);
  }

  onRemoteRendered(t) {
    const stamps = this.receiver.takeRendered();
    if (!stamps.length) return;
    const local = performance.timeOrigin + t;
    for (const ts of stamps) {
      const age = this.clock.ageOf(ts, local);
      if (age > -50 && age < 5000) this.stats.latency.push(age);
    }
  }

  onParamsMessage(data) {
    if (!(data instanceof ArrayBuffer)) return;
    const f = this.receiver.push(data);
    if (!f) return;
    this.stats.framesReceived += 1;
    if (!f.face_lost) this.stats.faceFramesReceived += 1;
    this.stats.frameBytes = data.byteLength;
    this.stats.recvRoll.push([f.timestamp_ms, f.rotation[2]]);
    this.stats.recvSmile.push((f.blendshapes[BS.mouthSmileLeft] + f.blendshapes[BS.mouthSmileRight]) / 2);
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
      const clean = {};
      for (const [k, v] of Object.entries(msg.weights).slice(0, 32)) {
        if (typeof v === "number" && k.length <= 64) clean[k] = Math.max(0, Math.min(1, v));
      }
      this.receiver.expressions = clean;
    } else if (msg.t === "asset_req" && this.ownVrm && msg.hash === this.ownVrm.hash) {
      const ch = this.peer && this.peer.channels.asset;
      if (ch && ch.readyState === "open") sendAsset(ch, this.ownVrm.hash, this.ownVrm.buffer);
    }
  }

  async showRemoteAvatar(avatar) {
    this.remoteAvatar = avatar;
    this.renderLicense(avatar);
    if (!avatar || avatar.renderer !== "vrm") {
      const key = avatar && isBuiltinKey(avatar.id) ? avatar.id : "builtin:robot";
      this.remoteView.show2d(key);
      this.stats.remoteKind = "2d";
      return;
    }
    // Practice partner mirrors us: our own bytes. Otherwise the cache, else ask the other side.
    let buffer = this.ownVrm && this.ownVrm.hash === avatar.fileHash ? this.ownVrm.buffer : await cachedAsset(avatar.fileHash);
    if (!buffer) {
      this.pendingAsset = avatar.fileHash;
      this.setRemoteOverlay(this.t.loading_avatar || "Loading the other person's avatar…");
      this.sendControl({ t: "asset_req", hash: avatar.fileHash });
      return;
    }
    await this.remoteView.showVrm(buffer.slice(0));
    this.stats.remoteKind = this.remoteView.kind;
    this.updateOverlay();
  }

  onAsset(hash, buffer) {
    if (this.remoteAvatar && this.remoteAvatar.fileHash === hash) {
      this.pendingAsset = null;
      this.remoteView.showVrm(buffer.slice(0)).then(() => {
        this.stats.remoteKind = this.remoteView.kind;
        this.updateOverlay();
      });
    }
  }

  // ---------------------------------------------------------------- signaling and peer
  startSignaling() {
    this.signaling = new SignalingClient(this.cfg.wsPath, {
      onMessage: (m) => this.onSignal(m),
      onState: (s, info) => this.onSignalingState(s, info),
    });
    this.signaling.connect();
  }

  onSignalingState(state, info) {
    this.stats.signaling = state;
    if (state === "reconnecting") {
      this.setState("reconnecting");
      this.showMessage("network_lost", "warning");
    } else if (state === "open") {
      this.clearMessage("network_lost");
    } else if (state === "failed") {
      this.setState("failed");
      this.closePeer();
      this.showMessage(info && info.code ? info.code : "signaling_failed", "error");
    }
  }

  async onSignal(m) {
    switch (m.type) {
      case "joined": {
        this.joined = m;
        if (Array.isArray(m.ice_servers)) this.iceServers = m.ice_servers;
        const other = (m.peers || []).find((p) => p.peer_id !== m.peer_id);
        if (other) this.remotePeer = other;
        if (m.initiator) {
          this.announceAvatar();
          await this.newPeer(true);
        } else {
          this.setState(other ? "connecting" : "waiting");
        }
        break;
      }
      case "peer_joined":
        this.remotePeer = m.peer;
        this.clearMessage("peer_left");
        this.clearMessage("peer_disconnected");
        if (this.practiceRequested) {
          this.practice = true;
          this.showRemoteAvatar(this.localAvatar);
        }
        this.announceAvatar();
        // The newcomer (or the one coming back) offers; we wait for its offer on a fresh connection.
        this.closePeer();
        this.receiver.reset();
        this.setState("connecting");
        break;
      case "offer":
        await this.newPeer(false);
        await this.peer.acceptOffer(m.sdp);
        break;
      case "answer":
        if (this.peer) await this.peer.acceptAnswer(m.sdp);
        break;
      case "candidate":
        if (this.peer) await this.peer.addCandidate(m.candidate);
        break;
      case "avatar":
        if (!this.practice) this.showRemoteAvatar(m.avatar);
        break;
      case "peer_disconnected":
        this.setState("reconnecting");
        this.showMessage("peer_disconnected", "warning");
        break;
      case "peer_left":
        this.closePeer();
        this.receiver.reset();
        this.practice = false;
        this.practiceRequested = false;
        this.remotePeer = null;
        this.showRemoteAvatar(null);
        this.clearMessage("peer_disconnected");
        this.showMessage("peer_left", "warning");
        this.setState("waiting");
        if (m.reason === "hangup") setTimeout(() => this.leave({ hangup: true }), 1200);
        break;
      case "room_closed":
        this.showMessage("room_closed", "error");
        this.setState("failed");
        this.closePeer();
        break;
      case "error":
        if (["peer_not_connected", "rate_limited", "invalid_message"].includes(m.code)) {
          console.warn("signaling error", m);
        } else {
          this.showMessage(m.code, "error", m.message);
        }
        break;
      default:
        break;
    }
  }

  async newPeer(initiator) {
    this.closePeer();
    const peer = new CallPeer({
      iceServers: this.iceServers,
      micTrack: this.micTrack(),
      sendSignal: (msg) => this.signaling.send(msg),
      onState: (s) => this.onPeerState(peer, s),
      onChannel: (label, ch) => this.wireChannel(peer, label, ch),
      onRemoteAudio: (stream) => {
        const audio = this.el("remote-audio");
        audio.srcObject = stream;
        audio.play().catch(() => {});
      },
    });
    this.peer = peer;
    this.stats.senderKinds = [];
    this.setState("connecting");
    if (initiator) await peer.startAsInitiator();
  }

  wireChannel(peer, label, ch) {
    if (label === "params") {
      ch.onmessage = (e) => this.onParamsMessage(e.data);
    } else if (label === "control") {
      ch.onmessage = (e) => this.onControlMessage(e.data);
      const opened = () => {
        this.clock.start();
        if (Object.keys(this.shortcuts.weights()).length) this.sendControl({ t: "expr", weights: this.shortcuts.weights() });
        if (this.pendingAsset) this.sendControl({ t: "asset_req", hash: this.pendingAsset });
      };
      if (ch.readyState === "open") opened();
      else ch.onopen = opened;
    } else if (label === "asset") {
      const rx = new AssetReceiver((hash, buf) => this.onAsset(hash, buf), (p) => {
        this.setRemoteOverlay(`${this.t.loading_avatar || "Loading the other person's avatar…"} ${Math.round(p * 100)}%`);
      });
      ch.onmessage = (e) => rx.handle(e.data);
    }
  }

  onPeerState(peer, state) {
    if (peer !== this.peer) return;
    this.stats.connection = state;
    this.stats.senderKinds = peer.senderKinds();
    if (state === "connected") {
      this.setState("connected");
      this.clearMessage("network_lost");
      this.clearMessage("peer_disconnected");
    } else if (state === "disconnected") {
      this.setState("reconnecting");
    } else if (state === "failed") {
      // ICE gave up: the initiator offers again on a fresh connection.
      this.setState("reconnecting");
      this.showMessage("network_lost", "warning");
      if (this.joined && this.joined.initiator && this.remotePeer) this.newPeer(true);
    }
  }

  closePeer() {
    this.clock.stop();
    if (this.peer) this.peer.close();
    this.peer = null;
    this.stats.connection = "closed";
  }

  // ---------------------------------------------------------------- controls
  bindControls() {
    this.el("avatar-select").addEventListener("change", (e) => this.applyAvatarChoice(e.target.value));
    this.el("mute").addEventListener("click", () => this.toggleMute());
    this.el("camera").addEventListener("click", () => this.toggleCamera());
    this.el("calibrate").addEventListener("click", () => this.calibrate());
    this.el("hangup").addEventListener("click", () => this.leave({ hangup: true }));
    const practice = this.el("practice");
    if (practice) practice.addEventListener("click", () => this.startPractice());
    const copy = this.el("copy-link");
    if (copy) {
      copy.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(copy.dataset.url || location.href);
          copy.textContent = this.t.copied || "Copied";
        } catch {
          copy.textContent = copy.dataset.url || location.href;
        }
      });
    }
    const toggleStats = this.el("stats-toggle");
    if (toggleStats) {
      toggleStats.addEventListener("click", () => {
        const panel = this.el("stats");
        panel.hidden = !panel.hidden;
        toggleStats.setAttribute("aria-expanded", String(!panel.hidden));
      });
    }
    window.addEventListener("keydown", (e) => {
      if (e.target && /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName)) return;
      if (this.shortcuts.keydown(e)) {
        e.preventDefault();
        this.onShortcutsChanged();
      }
    });
    window.addEventListener("keyup", (e) => {
      if (this.shortcuts.keyup(e)) this.onShortcutsChanged();
    });
    window.addEventListener("blur", () => {
      if (this.shortcuts.clear()) this.onShortcutsChanged();
    });
  }

  onShortcutsChanged() {
    const weights = this.shortcuts.weights();
    this.localReceiver.expressions = weights;
    this.sendControl({ t: "expr", weights });
    const names = Object.keys(weights);
    this.el("expression").textContent = names.length ? `${this.t.expression || "Expression"}: ${names.join(", ")}` : "";
  }

  renderShortcutHelp() {
    const list = this.el("shortcuts");
    if (!list) return;
    list.textContent = "";
    for (const sc of this.pipeline.settings.shortcuts) {
      const li = document.createElement("li");
      const kbd = document.createElement("kbd");
      kbd.textContent = sc.key;
      li.append(kbd, ` ${sc.label}`);
      list.appendChild(li);
    }
    list.hidden = list.children.length === 0;
  }

  toggleMute() {
    const track = this.micTrack();
    if (!track) return;
    this.micMuted = !this.micMuted;
    track.enabled = !this.micMuted;
    const btn = this.el("mute");
    btn.setAttribute("aria-pressed", String(this.micMuted));
    btn.textContent = this.micMuted ? this.t.unmute || "Unmute" : this.t.mute || "Mute";
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

  setCameraUi(on) {
    const btn = this.el("camera");
    btn.setAttribute("aria-pressed", String(!on));
    btn.textContent = on ? this.t.camera_off || "Stop tracking" : this.t.camera_on || "Start tracking";
    this.el("calibrate").disabled = !on;
  }

  async calibrate() {
    const btn = this.el("calibrate");
    btn.disabled = true;
    this.showMessage("calibrating", "info");
    const ok = await this.pipeline.calibration.begin(1200);
    this.clearMessage("calibrating");
    this.showMessage(ok ? "calibrated" : "calibration_failed", ok ? "success" : "warning");
    setTimeout(() => this.clearMessage(ok ? "calibrated" : "calibration_failed"), 3000);
    btn.disabled = !this.tracker;
  }

  async startPractice() {
    const btn = this.el("practice");
    btn.disabled = true;
    this.practiceRequested = true;
    try {
      const res = await fetch(this.cfg.practiceUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(this.root), "Content-Type": "application/json", Accept: "application/json" },
        body: "{}",
      });
      if (!res.ok) {
        let body = {};
        try {
          body = await res.json();
        } catch {
          body = {};
        }
        this.practiceRequested = false;
        this.showMessage(body.code || "practice_unavailable", "error", body.message);
        btn.disabled = false;
        return;
      }
      this.showMessage("practice_starting", "info");
      setTimeout(() => this.clearMessage("practice_starting"), 6000);
    } catch {
      this.practiceRequested = false;
      this.showMessage("network_lost", "error");
      btn.disabled = false;
    }
  }

  teardown({ hangup }) {
    if (this.leaving) return;
    this.leaving = true;
    clearInterval(this.idleTimer);
    clearInterval(this.uiTimer);
    if (this.signaling) this.signaling.close({ hangup });
    this.closePeer();
    this.stopCamera();
    if (this.mic) for (const t of this.mic.getTracks()) t.stop();
    if (this.speaking) this.speaking.close();
  }

  leave({ hangup }) {
    this.teardown({ hangup });
    window.location.assign(this.cfg.lobbyUrl);
  }

  // ---------------------------------------------------------------- UI
  setBusy(busy) {
    this.el("avatar-select").disabled = busy;
  }

  setState(state) {
    this.state = state;
    const badge = this.el("state");
    badge.dataset.state = state;
    badge.textContent = (this.t.states && this.t.states[state]) || state;
    this.root.dataset.callState = state;
    this.updateOverlay();
  }

  updateOverlay() {
    let text = "";
    if (this.pendingAsset) return;
    if (this.state === "waiting") text = this.t.waiting || "Waiting for the other person…";
    else if (this.state === "connecting") text = this.t.states?.connecting || "Connecting…";
    else if (this.state === "reconnecting") text = this.t.states?.reconnecting || "Reconnecting…";
    else if (this.state === "failed") text = this.t.states?.failed || "Disconnected";
    this.setRemoteOverlay(text);
  }

  setRemoteOverlay(text) {
    const ov = this.el("remote-overlay");
    ov.textContent = text;
    ov.hidden = !text;
  }

  renderLicense(avatar) {
    const box = this.el("remote-license");
    box.textContent = "";
    const lic = avatar && avatar.license;
    if (!lic) {
      box.hidden = true;
      return;
    }
    const title = document.createElement("p");
    title.className = "license-title";
    const parts = [avatar.name, lic.name, (lic.authors || []).join(", ")].filter(Boolean);
    title.textContent = `${this.t.license_title || "Avatar conditions of use"}: ${parts.join(" · ")}`;
    box.appendChild(title);
    if (Array.isArray(lic.card) && lic.card.length) {
      const dl = document.createElement("dl");
      for (const row of lic.card) {
        const dt = document.createElement("dt");
        dt.textContent = row.label;
        const dd = document.createElement("dd");
        dd.textContent = row.value;
        dd.dataset.state = row.state;
        dl.append(dt, dd);
      }
      box.appendChild(dl);
    }
    box.hidden = false;
  }

  showMessage(code, level = "info", fallbackText = "") {
    const text = (this.t.errors && this.t.errors[code]) || fallbackText || (this.t.errors && this.t.errors.generic) || code;
    const box = this.el("messages");
    let p = this.messages.get(code);
    if (!p) {
      p = document.createElement("p");
      p.dataset.code = code;
      box.appendChild(p);
      this.messages.set(code, p);
    }
    p.className = `message ${level}`;
    p.textContent = text;
  }

  clearMessage(code) {
    const p = this.messages.get(code);
    if (p) {
      p.remove();
      this.messages.delete(code);
    }
  }

  async updatePanel() {
    const s = this.stats;
    if (this.peer) {
      s.rtt = await this.peer.rttMs();
      s.senderKinds = this.peer.senderKinds();
    }
    s.trackingFps = this.trackRate.rate();
    s.renderFpsLocal = this.localView.fps();
    s.renderFpsRemote = this.remoteView.fps();
    s.localKind = this.localView.kind;
    s.remoteKind = this.remoteView.kind;
    const lat = s.latency.recent(300);
    s.latencyP50 = percentile(lat, 50);
    s.latencyP95 = percentile(lat, 95);
    const fmt = (v, unit = "", digits = 0) => (v === null || v === undefined || Number.isNaN(v) ? "–" : `${v.toFixed(digits)}${unit}`);
    const set = (name, text) => {
      const el = this.el(name);
      if (el) el.textContent = text;
    };
    set("stat-connection", (this.t.states && this.t.states[this.state]) || this.state);
    set("stat-rtt", fmt(s.rtt, " ms", 1));
    set("stat-tracking", this.tracker ? fmt(s.trackingFps, " fps") : this.t.off || "off");
    set("stat-render", `${fmt(s.renderFpsRemote, " fps")} / ${fmt(s.renderFpsLocal, " fps")}`);
    set("stat-latency", s.latencyP50 === null ? "–" : `${fmt(s.latencyP50, " ms")} / ${fmt(s.latencyP95, " ms")}`);
    set("stat-frames", `${s.framesReceived} / ${s.framesSent}`);
    set("stat-bytes", `${s.frameBytes} B`);
    // Speaking indicators and face state.
    this.el("local-card").classList.toggle("speaking", Boolean(this.speaking && this.speaking.speaking && !this.micMuted));
    this.el("remote-card").classList.toggle("speaking", Boolean(this.receiver.lastFrame && this.receiver.lastFrame.speaking && !this.receiver.stalled()));
    const faceBadge = this.el("face-state");
    const lost = this.tracker && this.localFaceLost;
    faceBadge.hidden = !(lost || !this.tracker);
    faceBadge.textContent = !this.tracker ? this.t.tracking_off || "Tracking off" : this.t.face_lost || "Face not found — idle animation";
    const remoteFace = this.el("remote-face-state");
    const rf = this.receiver.lastFrame;
    remoteFace.hidden = !(rf && rf.face_lost && this.state === "connected");
    remoteFace.textContent = this.t.remote_face_lost || "The other person's face is not visible";
    if (this.receiver.stalled() && this.state === "connected") this.setRemoteOverlay(this.t.held || "Frames interrupted — holding the last pose");
    else if (this.state === "connected" && !this.pendingAsset) this.setRemoteOverlay("");
    const name = this.el("remote-name");
    name.textContent = this.remotePeer ? this.remotePeer.name || "" : "";
  }

  exposeStats() {
    const app = this;
    window.__afStats = {
      get state() { return app.state; },
      get connection() { return app.stats.connection; },
      get signaling() { return app.stats.signaling; },
      get framesSent() { return app.stats.framesSent; },
      get framesReceived() { return app.stats.framesReceived; },
      get faceFramesReceived() { return app.stats.faceFramesReceived; },
      get frameBytes() { return app.stats.frameBytes; },
      get trackingResults() { return app.stats.trackingResults; },
      get trackingFaces() { return app.stats.trackingFaces; },
      get trackingProcMs() { return app.stats.trackingProcMs; },
      get trackingQueueMs() { return app.stats.trackingQueueMs; },
      get trackingFps() { return app.trackRate.rate(); },
      get trackerMode() { return app.tracker ? app.tracker.mode : "off"; },
      get renderFpsLocal() { return app.localView ? app.localView.fps() : 0; },
      get renderFpsRemote() { return app.remoteView ? app.remoteView.fps() : 0; },
      get remoteFrames() { return app.remoteView ? app.remoteView.count : 0; },
      get localFrames() { return app.localView ? app.localView.count : 0; },
      get localKind() { return app.localView ? app.localView.kind : null; },
      get remoteKind() { return app.remoteView ? app.remoteView.kind : null; },
      get remoteAvatar() { return app.remoteAvatar; },
      get latency() { return app.stats.latency.values.slice(); },
      get sentRoll() { return app.stats.sentRoll.values.slice(); },
      get recvRoll() { return app.stats.recvRoll.values.slice(); },
      get recvSmile() { return app.stats.recvSmile.values.slice(); },
      get senderKinds() { return app.peer ? app.peer.senderKinds() : []; },
      get transceiverKinds() {
        return app.peer ? app.peer.pc.getTransceivers().map((t) => (t.receiver.track ? t.receiver.track.kind : null)) : [];
      },
      get rtt() { return app.stats.rtt; },
      get clockSynced() { return app.clock.synced; },
      get clockOffset() { return app.clock.offset; },
      get messages() { return [...app.messages.keys()]; },
      resetSamples() {
        app.stats.framesReceived = 0;
        app.stats.faceFramesReceived = 0;
        app.stats.latency.clear();
        app.stats.recvRoll.clear();
        app.stats.sentRoll.clear();
        app.stats.recvSmile.clear();
      },
    };
  }
}
