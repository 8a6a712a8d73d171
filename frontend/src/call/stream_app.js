// Stream mode (templates/rooms/stream.html): your avatar alone, tracked from your camera, drawn on
// a transparent page for an OBS browser source. The same parts as the call page, without a call:
// the face tracker in its worker, the sender-side pipeline with the actor's settings and idle
// animation, expression shortcut keys, and an AvatarView without a backdrop. The avatar is
// ?avatar= (builtin:<key> | actor:<id>) or the one last chosen on the call page.
// The camera image stays in this page, as in a call: the tracker returns numbers only.
import { AvatarView } from "../avatar/view.js";
import { isBuiltinKey } from "../avatar/characters2d.js";
import { ShortcutState } from "../tracking/actor_settings.js";
import { TrackingPipeline } from "../tracking/pipeline.js";
import { FaceTracker, openCamera } from "../tracking/tracker.js";
import { nowMs } from "./clock.js";
import { LocalAvatar } from "./local_avatar.js";
import { RateMeter } from "./stats.js";
import { readJson } from "./ui.js";

const IDLE_AFTER_MS = 150; // no tracking result for this long: idle animation frames instead
const MAX_FPS = { "2d": 60, vrm: 30 };

export class StreamApp {
  constructor(root) {
    this.root = root;
    this.strings = {};
    for (const span of root.querySelectorAll('[data-el="i18n"] [data-k]')) this.strings[span.dataset.k] = span.textContent.trim();
    this.pipeline = new TrackingPipeline();
    this.shortcuts = new ShortcutState(this.pipeline.settings);
    this.params = this.pipeline.tick(nowMs());
    this.tracker = null;
    this.lastResultAt = -Infinity;
    this.trackRate = new RateMeter();
    this.trackingFaces = 0;
    // LocalAvatar talks to the call page's UI; here only messages matter.
    const ui = {
      setAvatarChoice() {}, setBusy() {}, renderShortcutHelp() {},
      showMessage: (code) => this.showMessage(code === "avatar_download_failed" || code === "vrm_failed" ? "avatar_failed" : code),
    };
    this.local = new LocalAvatar({
      ui, pipeline: this.pipeline, shortcuts: this.shortcuts,
      actors: (readJson("call-actors", []) || []).filter((a) => a && a.avatar),
    });
  }

  showMessage(code) {
    const p = this.root.querySelector('[data-el="message"]');
    p.textContent = this.strings[code] || code;
    p.hidden = false;
  }

  /** ?avatar= when it names a built-in character or one of our actors, else the call page's choice. */
  choice() {
    const asked = this.root.dataset.avatar;
    if (asked && (isBuiltinKey(asked) || this.local.actorFor(asked))) return asked;
    return this.local.currentChoice();
  }

  async start() {
    this.view = new AvatarView(this.root.querySelector('[data-el="stage"]'), {
      source: () => this.params,
      mirror: true,
      transparent: true,
      maxFps: MAX_FPS,
      onFallback: () => this.showMessage("avatar_failed"),
    });
    this.local.view = this.view;
    this.view.start();
    const saved = localStorage.getItem("af.call.avatar");
    await this.local.apply(this.choice());
    // apply() remembers the avatar for the call page; an ?avatar= for OBS must not change that.
    if (this.root.dataset.avatar) {
      if (saved === null) localStorage.removeItem("af.call.avatar");
      else localStorage.setItem("af.call.avatar", saved);
    }
    window.addEventListener("keydown", (e) => {
      if (this.shortcuts.keydown(e)) e.preventDefault();
      this.params.expressions = this.shortcuts.weights();
    });
    window.addEventListener("keyup", (e) => {
      this.shortcuts.keyup(e);
      this.params.expressions = this.shortcuts.weights();
    });
    this.idleTimer = setInterval(() => {
      const now = nowMs();
      if (now - this.lastResultAt > IDLE_AFTER_MS) this.setParams(this.pipeline.tick(now));
    }, 1000 / 30);
    window.addEventListener("pagehide", () => this.stop());
    await this.startCamera();
  }

  setParams(params) {
    params.expressions = this.shortcuts.weights();
    this.params = params;
  }

  async startCamera() {
    let stream;
    try {
      stream = await openCamera(localStorage.getItem("af.call.cameraDevice") || "");
    } catch (err) {
      this.showMessage(err.code || "no_camera");
      return;
    }
    this.tracker = new FaceTracker({
      workerUrl: this.root.dataset.workerUrl, modelUrl: this.root.dataset.modelUrl, wasmBase: this.root.dataset.wasmBase,
      onResult: (r) => {
        this.lastResultAt = nowMs();
        this.trackRate.mark();
        if (r.found) this.trackingFaces += 1;
        this.setParams(this.pipeline.fromResult(r));
      },
      onError: (err) => this.showMessage(err.code || "model_failed"),
    });
    try {
      await this.tracker.start(stream);
    } catch (err) {
      this.tracker.stop();
      this.tracker = null;
      this.showMessage(err.code || "model_failed");
    }
  }

  stop() {
    clearInterval(this.idleTimer);
    if (this.tracker) this.tracker.stop();
    this.tracker = null;
  }
}
