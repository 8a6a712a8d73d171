// The call page's DOM (templates/rooms/call.html): translated strings, the avatar picker, the
// state badge and the overlay on the other person's stage, messages, the license card, buttons
// and the stats panel. Everything the page shows goes through here, user data with textContent.
import { BUILTIN_CHARACTERS } from "../avatar/characters2d.js";
import { licenseDisplayName, localizeRow, normalizeRemoteAvatar } from "./remote_description.js";

export function readJson(id, fallback) {
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

const fmt = (v, unit = "", digits = 0) => (v === null || v === undefined || Number.isNaN(v) ? "–" : `${v.toFixed(digits)}${unit}`);

export class CallUi {
  constructor(root) {
    this.root = root;
    this.t = readStrings(root);
    // The license card's words in this page's language (rooms.views._license_text).
    this.licenseText = readJson("license-text", null);
    this.state = null;
    this.assetPending = false; // the other avatar is downloading: its progress owns the overlay
    this.messages = new Map();
  }

  el(name) {
    return this.root.querySelector(`[data-el="${name}"]`);
  }

  // ---------------------------------------------------------------- avatar picker
  buildAvatarPicker(actors) {
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
    if (actors.length) {
      const gv = document.createElement("optgroup");
      gv.label = this.t.actors_group || "Your actors (VRM)";
      for (const a of actors) {
        const o = document.createElement("option");
        o.value = `actor:${a.id}`;
        o.textContent = `${a.name} · ${a.avatar.name}`;
        gv.appendChild(o);
      }
      select.appendChild(gv);
    }
  }

  setAvatarChoice(choice) {
    this.el("avatar-select").value = choice;
  }

  setBusy(busy) {
    this.el("avatar-select").disabled = busy;
  }

  // ---------------------------------------------------------------- device pickers, framing
  /**
   * Fill the camera and microphone pickers. devices: {cameras, mics: [{id, label}]};
   * current: {camera, mic} the ids in use. Unlabelled devices (no permission yet) get numbers.
   */
  buildDevicePickers(devices, current) {
    const fill = (name, list, selected, numbered) => {
      const select = this.el(name);
      if (!select) return;
      select.textContent = "";
      list.forEach((d, i) => {
        const o = document.createElement("option");
        o.value = d.id;
        o.textContent = d.label || `${numbered} ${i + 1}`;
        select.appendChild(o);
      });
      if (list.some((d) => d.id === selected)) select.value = selected;
      select.disabled = list.length < 1;
    };
    fill("camera-select", devices.cameras, current.camera, this.t.camera_n || "Camera");
    fill("mic-select", devices.mics, current.mic, this.t.mic_n || "Microphone");
  }

  /** The framing preview: on/off, and the local camera clone to show (null while the camera is off). */
  showFraming(on, stream) {
    const video = this.el("framing");
    const btn = this.el("framing-toggle");
    if (!video || !btn) return;
    btn.setAttribute("aria-pressed", String(on));
    btn.textContent = on ? this.t.framing_hide || "Hide camera framing" : this.t.framing_show || "Check camera framing";
    if (video.srcObject !== stream) video.srcObject = stream;
    video.hidden = !(on && stream);
    if (on && stream) video.play().catch(() => {});
    this.el("framing-note").hidden = !(on && !stream);
  }

  // ---------------------------------------------------------------- controls
  /**
   * handlers: avatar(choice), mute(), camera(), calibrate(), hangup(), practice(), cameraDevice(id),
   * micDevice(id), framing(), keydown(e), keyup(e), blur()
   */
  bindControls(h) {
    this.el("avatar-select").addEventListener("change", (e) => h.avatar(e.target.value));
    this.el("camera-select").addEventListener("change", (e) => h.cameraDevice(e.target.value));
    this.el("mic-select").addEventListener("change", (e) => h.micDevice(e.target.value));
    this.el("framing-toggle").addEventListener("click", () => h.framing());
    this.el("mute").addEventListener("click", () => h.mute());
    this.el("camera").addEventListener("click", () => h.camera());
    this.el("calibrate").addEventListener("click", () => h.calibrate());
    this.el("hangup").addEventListener("click", () => h.hangup());
    const practice = this.el("practice");
    if (practice) practice.addEventListener("click", () => h.practice());
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
      h.keydown(e);
    });
    window.addEventListener("keyup", (e) => h.keyup(e));
    window.addEventListener("blur", () => h.blur());
  }

  setExpressionNames(names) {
    this.el("expression").textContent = names.length ? `${this.t.expression || "Expression"}: ${names.join(", ")}` : "";
  }

  renderShortcutHelp(shortcuts) {
    const list = this.el("shortcuts");
    if (!list) return;
    list.textContent = "";
    for (const sc of shortcuts) {
      const li = document.createElement("li");
      const kbd = document.createElement("kbd");
      kbd.textContent = sc.key;
      li.append(kbd, ` ${sc.label}`);
      list.appendChild(li);
    }
    list.hidden = list.children.length === 0;
  }

  setMuted(muted) {
    const btn = this.el("mute");
    btn.setAttribute("aria-pressed", String(muted));
    btn.textContent = muted ? this.t.unmute || "Unmute" : this.t.mute || "Mute";
  }

  disableMute() {
    this.el("mute").disabled = true;
  }

  setCameraUi(on) {
    const btn = this.el("camera");
    btn.setAttribute("aria-pressed", String(!on));
    btn.textContent = on ? this.t.camera_off || "Stop tracking" : this.t.camera_on || "Start tracking";
    this.el("calibrate").disabled = !on;
  }

  setCalibrateEnabled(on) {
    this.el("calibrate").disabled = !on;
  }

  setPracticeEnabled(on) {
    const btn = this.el("practice");
    if (btn) btn.disabled = !on;
  }

  playRemoteAudio(stream) {
    const audio = this.el("remote-audio");
    audio.srcObject = stream;
    audio.play().catch(() => {});
  }

  // ---------------------------------------------------------------- state, overlay, license
  setState(state) {
    this.state = state;
    const badge = this.el("state");
    badge.dataset.state = state;
    badge.textContent = (this.t.states && this.t.states[state]) || state;
    this.root.dataset.callState = state;
    this.updateOverlay();
  }

  updateOverlay() {
    if (this.assetPending) return;
    let text = "";
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

  /** The other avatar's conditions of use; any description renders (normalized first), never throws. */
  renderLicense(raw) {
    const box = this.el("remote-license");
    box.textContent = "";
    const avatar = normalizeRemoteAvatar(raw);
    const lic = avatar && avatar.license;
    if (!lic) {
      box.hidden = true;
      return;
    }
    // Folded to its title line: the rows (nine for a VRM) took half a phone screen in every call.
    const details = document.createElement("details");
    const title = document.createElement("summary");
    title.className = "license-title";
    const parts = [avatar.name, licenseDisplayName(lic.name), lic.authors.join(", ")].filter(Boolean);
    title.textContent = `${this.t.license_title || "Avatar conditions of use"}: ${parts.join(" · ")}`;
    details.appendChild(title);
    box.appendChild(details);
    if (lic.card.length) {
      const dl = document.createElement("dl");
      for (const row of lic.card) {
        const { label, value } = localizeRow(row, this.licenseText);
        const dt = document.createElement("dt");
        dt.textContent = label;
        const dd = document.createElement("dd");
        dd.textContent = value;
        dd.dataset.state = row.state;
        dl.append(dt, dd);
      }
      details.appendChild(dl);
    }
    box.hidden = false;
  }

  // ---------------------------------------------------------------- messages
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

  // ---------------------------------------------------------------- stats panel
  /** The adaptive quality level: "3/7 · Tracking at 24 fps" (translated), with the level on data-level. */
  showQuality(q) {
    const el = this.el("stat-quality");
    if (!el || !q) return;
    const label = (this.t.quality && this.t.quality[q.key]) || q.key;
    el.textContent = `${q.level + 1}/${q.levels} · ${label}`;
    el.dataset.level = String(q.level);
    el.dataset.key = q.key;
  }

  /**
   * s: {rtt, trackingFps, tracking (bool), renderFpsLocal, renderFpsRemote, latencyP50, latencyP95,
   *     framesReceived, framesSent, frameBytes, localSpeaking, remoteSpeaking, localFaceLost,
   *     remoteFaceLost, remoteStalled, remoteName, quality: AdaptiveQuality.snapshot()}
   */
  updatePanel(s) {
    const set = (name, text) => {
      const el = this.el(name);
      if (el) el.textContent = text;
    };
    set("stat-connection", (this.t.states && this.t.states[this.state]) || this.state);
    set("stat-rtt", fmt(s.rtt, " ms", 1));
    set("stat-tracking", s.tracking ? fmt(s.trackingFps, " fps") : this.t.off || "off");
    set("stat-body", s.bodyTracking ? fmt(s.bodyTrackingFps, " fps") : this.t.off || "off");
    set("stat-hands", s.handTracking ? fmt(s.handTrackingFps, " fps") : this.t.off || "off");
    set("stat-render", `${fmt(s.renderFpsRemote, " fps")} / ${fmt(s.renderFpsLocal, " fps")}`);
    set("stat-latency", s.latencyP50 === null ? "–" : `${fmt(s.latencyP50, " ms")} / ${fmt(s.latencyP95, " ms")}`);
    set("stat-frames", `${s.framesReceived} / ${s.framesSent}`);
    set("stat-bytes", `${s.frameBytes} B`);
    this.showQuality(s.quality);
    this.el("local-card").classList.toggle("speaking", s.localSpeaking);
    this.el("remote-card").classList.toggle("speaking", s.remoteSpeaking);
    const faceBadge = this.el("face-state");
    faceBadge.hidden = !(s.localFaceLost || !s.tracking);
    faceBadge.textContent = !s.tracking ? this.t.tracking_off || "Tracking off" : this.t.face_lost || "Face not found — idle animation";
    const remoteFace = this.el("remote-face-state");
    remoteFace.hidden = !(s.remoteFaceLost && this.state === "connected");
    remoteFace.textContent = this.t.remote_face_lost || "The other person's face is not visible";
    if (s.remoteStalled && this.state === "connected") this.setRemoteOverlay(this.t.held || "Frames interrupted — holding the last pose");
    else if (this.state === "connected" && !this.assetPending) this.setRemoteOverlay("");
    this.el("remote-name").textContent = s.remoteName;
  }
}
