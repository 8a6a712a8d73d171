// The OBS overlay / avatar source page (templates/live/overlay.html). It plays the character's
// voice itself (OBS captures the browser source's audio; no virtual cable), moves the avatar from
// the pose driver (emotion, idle, glance, viseme mouth), shows chat and replies, and optionally
// drives VTube Studio on this machine through the VTS bridge.
import { AvatarView } from "../avatar/view.js";
import { createParams, BS } from "../avatar/params.js";
import { ReconnectingSocket, wsUrl } from "../ws.js";
import { OverlayChat } from "./overlay_chat.js";
import { PoseDriver } from "./pose.js";
import { VtsBridge } from "./vts_bridge.js";

const DEG = Math.PI / 180;
const c01 = (v) => (v < 0 ? 0 : v > 1 ? 1 : v);

// Pose-driver values -> the avatar renderers' parameters (same object the call page uses).
export function poseToParams(v, p) {
  const b = p.blendshapes;
  b.fill(0);
  p.rotation[0] = (v.FaceAngleX || 0) * DEG;
  p.rotation[1] = (v.FaceAngleY || 0) * DEG * 0.5;
  p.rotation[2] = (v.FaceAngleZ || 0) * DEG;
  const smile = c01(v.Smile || 0);
  b[BS.mouthSmileLeft] = smile;
  b[BS.mouthSmileRight] = smile;
  b[BS.browInnerUp] = c01(v.BrowRaise || 0);
  b[BS.browDownLeft] = c01(-(v.BrowRaise || 0));
  b[BS.browDownRight] = b[BS.browDownLeft];
  b[BS.jawOpen] = c01(v.MouthOpen || 0);
  b[BS.eyeLookOutLeft] = c01(v.EyeX || 0);
  b[BS.eyeLookInRight] = c01(v.EyeX || 0);
  b[BS.eyeLookInLeft] = c01(-(v.EyeX || 0));
  b[BS.eyeLookOutRight] = c01(-(v.EyeX || 0));
  p.expressions = { happy: smile * 0.8, aa: c01(v.MouthOpen || 0) };
  p.speaking = (v.MouthOpen || 0) > 0.05;
  p.faceLost = false;
  return p;
}

export class OverlayPage {
  constructor(doc = document) {
    this.doc = doc;
    this.cfg = JSON.parse(doc.getElementById("overlay-config").textContent);
    this.chat = new OverlayChat(doc.querySelector("[data-overlay-chat]"), { doc, fadeAfterS: this.cfg.fadeAfterS });
    this.replyEl = doc.querySelector("[data-overlay-reply]");
    this.noticeEl = doc.querySelector("[data-overlay-notice]");
    this.audioButton = doc.querySelector("[data-overlay-audio]");
    this.pose = new PoseDriver({ emotionMap: this.cfg.emotionMap, lerpS: this.cfg.lerpS });
    this.params = createParams();
    this.clips = []; // queued {say payload}
    this.playing = null;
    this.stats = { said: 0, played: 0, firstAudioAt: null };
  }

  start() {
    this.setupAvatar();
    this.audio = new AudioContext();
    if (this.audio.state !== "running") {
      this.audioButton.hidden = false;
      this.audioButton.addEventListener("click", () => this.audio.resume().then(() => { this.audioButton.hidden = true; this.playNext(); }));
    }
    if (this.cfg.vts) {
      let token = localStorage.getItem("af.vtsToken") || "";
      this.vts = new VtsBridge({
        url: this.cfg.vtsUrl, emotionMap: this.cfg.emotionMap,
        storage: { get: () => token, set: (t) => { token = t; localStorage.setItem("af.vtsToken", t); } },
        onStatus: (state, detail) => this.socket?.send({ action: "vts_status", state, detail, lost_parameters: [] }),
      });
      this.vts.start();
    }
    this.socket = new ReconnectingSocket(wsUrl(this.cfg.wsPath), {
      terminalCodes: [4404],
      onMessage: (m) => this.onMessage(m),
      onClose: ({ terminal }) => { if (terminal) this.notice("This overlay link is no longer valid."); },
    });
    this.socket.connect();
  }

  setupAvatar() {
    const stage = this.doc.querySelector("[data-overlay-avatar]");
    let last = performance.now();
    const source = (t) => {
      const values = this.pose.update(t / 1000, Math.min(0.1, (t - last) / 1000));
      last = t;
      this.vts?.setValues(values);
      return poseToParams(values, this.params);
    };
    this.view = new AvatarView(stage, { source, maxFps: 30 });
    const avatar = this.cfg.avatar || { kind: "2d", key: "builtin:fox" };
    const fallbackKey = avatar.kind === "2d" ? avatar.key : "builtin:fox";
    this.view.show2d(fallbackKey);
    this.view.start();
    if (avatar.kind === "vrm" && avatar.url) {
      fetch(avatar.url).then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(String(r.status)))))
        .then((buf) => this.view.showVrm(buf, { fallbackKey }))
        .catch((err) => console.warn("avatar download failed; showing the 2D face", err));
    }
  }

  notice(text) {
    this.noticeEl.textContent = text;
    this.noticeEl.hidden = false;
  }

  onMessage(m) {
    switch (m.type) {
      case "state":
        this.chat.setHideStreamer(m.hide_streamer_chat);
        break;
      case "chat":
        this.chat.add(m.event);
        break;
      case "say":
        this.stats.said += 1;
        this.clips.push(m);
        if (!this.playing) this.playNext();
        break;
      case "reply":
        break;
      case "clear":
        this.chat.clear();
        this.replyEl.hidden = true;
        break;
      case "silence":
        this.silence();
        break;
      case "revoked":
        this.notice("This overlay link was revoked.");
        break;
      default:
        break;
    }
  }

  silence() {
    this.clips = [];
    if (this.playing?.source) { try { this.playing.source.stop(); } catch { /* already stopped */ } }
    this.playing = null;
    this.pose.silence();
  }

  async playNext() {
    const clip = this.clips.shift();
    if (!clip) { this.playing = null; return; }
    this.playing = { clip };
    if (clip.emotion) { this.pose.setEmotion(clip.emotion); this.vts?.showEmotion(clip.emotion); }
    this.pose.glance(performance.now() / 1000, 0.3);
    this.replyEl.textContent = clip.text;
    this.replyEl.hidden = false;
    if (!clip.clip || this.audio.state !== "running") {
      // No voice (or sound not allowed yet): mouth from the visemes on the page clock.
      this.pose.speak(performance.now() / 1000, clip.visemes, clip.duration || 0.06 * clip.text.length);
      setTimeout(() => this.playNext(), (clip.duration || 0.06 * clip.text.length) * 1000);
      return;
    }
    try {
      const res = await fetch(this.cfg.clipBase + clip.clip + ".wav");
      if (!res.ok) throw new Error(String(res.status));
      const buffer = await this.audio.decodeAudioData(await res.arrayBuffer());
      if (this.playing?.clip !== clip) return; // silenced meanwhile
      const source = this.audio.createBufferSource();
      source.buffer = buffer;
      source.connect(this.audio.destination);
      this.playing.source = source;
      source.onended = () => { if (this.playing?.clip === clip) this.playNext(); };
      source.start();
      this.stats.played += 1;
      if (this.stats.firstAudioAt === null) this.stats.firstAudioAt = performance.now();
      // Visemes run on the audio's own clock start (the mouth matches what is heard).
      this.pose.speak(performance.now() / 1000, clip.visemes, buffer.duration);
    } catch (err) {
      console.warn("speech clip failed", err);
      this.playNext();
    }
  }
}
