// AvatarView: one avatar on the page. Owns a canvas inside a container, the renderer for the
// avatar kind (2D canvas or VRM; switching kind swaps the canvas, since a canvas can't change
// context type), and the animation-frame loop that asks `source(tMs)` for the parameters to draw.
// Measures its render fps. A VRM that can't be shown (no WebGL, bad file) falls back to 2D and
// reports why through onFallback.
//
// Draws are paced, not just throttled: with `maxFps` (per kind) the loop keeps a schedule, so a
// 30 fps cap on a 60 Hz display gives 30 fps rather than the 20 that "at least 33 ms since the
// last draw" gives once frames jitter. With `needsRender(tMs)` the loop skips animation frames
// that would draw the same picture again (under software GL a VRM draw costs tens of ms of CPU
// that face tracking needs).
//
// Adaptive quality (call/adaptive.js) sets a render scale (fewer pixels, scaled up by CSS) and
// switches effects off; the view measures its draws' main-thread time (drawMs / count) for it.
import { Canvas2DRenderer } from "./renderer2d.js";
import { DEFAULT_2D_KEY } from "./characters2d.js";
import { nextDue } from "./pacing.js";

export { nextDue }; // its tests import it from here

export class AvatarView {
  /**
   * @param {HTMLElement} container
   * @param {{source: (tMs:number) => import("./params.js").AvatarParams, onRendered?: (tMs:number) => void,
   *          needsRender?: (tMs:number) => boolean, maxFps?: number | {"2d"?: number, vrm?: number},
   *          mirror?: boolean, transparent?: boolean, onFallback?: (code:string) => void}} opts
   *   maxFps: a cap for every kind, or one per kind (0 or missing: the display's rate).
   *   needsRender: false when the source has nothing new to show (the draw is skipped).
   *   transparent: no backdrop behind the 2D character (stream mode; a VRM is always drawn on alpha).
   */
  constructor(container, { source, onRendered = null, needsRender = null, maxFps = 0, mirror = false, transparent = false, onFallback = null }) {
    this.container = container;
    this.source = source;
    this.onRendered = onRendered;
    this.needsRender = needsRender;
    this.maxFps = maxFps;
    this.mirror = mirror;
    this.transparent = transparent;
    this.onFallback = onFallback || (() => {});
    this.renderer = null;
    this.canvas = null;
    this.desc = null;
    this.running = false;
    this.frames = [];
    this.count = 0; // frames drawn since creation
    this.drawMs = 0; // main-thread time spent in those draws
    this.renderScale = 1; // share of the usual resolution per side (adaptive quality)
    this.effects = true; // renderer effects (VRM outlines, spring bones)
    this._raf = 0;
    this._due = 0; // earliest time of the next draw under the cap
    this._dirty = true; // something besides the source changed (new renderer, size)
    this._loadToken = 0;
    this._ro = new ResizeObserver(() => this._fit());
    this._ro.observe(container);
  }

  /** Kind currently shown: "2d" or "vrm". */
  get kind() {
    return this.renderer ? this.renderer.kind : null;
  }

  _newCanvas() {
    const canvas = document.createElement("canvas");
    canvas.className = "avatar-canvas";
    if (this.mirror) canvas.classList.add("mirrored");
    return canvas;
  }

  _swap(canvas, renderer) {
    if (this.renderer) this.renderer.dispose();
    if (this.canvas) this.canvas.remove();
    this.canvas = canvas;
    this.renderer = renderer;
    this.container.appendChild(canvas);
    this._fit(true);
    this._dirty = true;
  }

  /** Draw at `scale` (0.25..1) of the usual resolution per side. */
  setRenderScale(scale) {
    const s = Math.max(0.25, Math.min(1, Number(scale) || 1));
    if (s === this.renderScale) return;
    this.renderScale = s;
    this._fit();
  }

  /** Effects on or off; kept for renderers shown later. */
  setEffects(on) {
    this.effects = Boolean(on);
    if (this.renderer && this.renderer.setEffects) this.renderer.setEffects(this.effects);
    this._dirty = true;
  }

  /** Show a built-in 2D character. */
  show2d(key = DEFAULT_2D_KEY) {
    this._loadToken++;
    if (this.renderer && this.renderer.kind === "2d") {
      this.renderer.setCharacter(key);
      this._dirty = true;
    } else {
      const canvas = this._newCanvas();
      const renderer = new Canvas2DRenderer(canvas, key);
      renderer.background = !this.transparent;
      this._swap(canvas, renderer);
    }
    this.desc = { renderer: "2d", key: this.renderer.key };
    return this.desc;
  }

  /**
   * Show a VRM from bytes. Resolves with true when shown, false when it fell back to 2D.
   * @param {ArrayBuffer} buffer
   */
  async showVrm(buffer, { fallbackKey = DEFAULT_2D_KEY } = {}) {
    const token = ++this._loadToken;
    let mod;
    try {
      mod = await import("./vrm_renderer.js");
    } catch (err) {
      return this._fallback("vrm_failed", fallbackKey, token);
    }
    if (!mod.webglAvailable()) return this._fallback("webgl_unavailable", fallbackKey, token);
    const canvas = this._newCanvas();
    let renderer;
    try {
      renderer = new mod.VrmRenderer(canvas);
      // Size before loading so framing uses the right aspect.
      const { w, h } = this._size();
      renderer.resize(w, h);
      await renderer.load(buffer);
      renderer.setEffects(this.effects);
    } catch (err) {
      console.warn("VRM could not be shown", err);
      if (renderer) renderer.dispose();
      return this._fallback(err && err.code === "webgl_unavailable" ? "webgl_unavailable" : "vrm_failed", fallbackKey, token);
    }
    if (token !== this._loadToken) {
      renderer.dispose();
      return false;
    }
    this._swap(canvas, renderer);
    this.desc = { renderer: "vrm" };
    return true;
  }

  _fallback(code, key, token) {
    if (token === this._loadToken) {
      this.show2d(key);
      this.onFallback(code);
    }
    return false;
  }

  _size() {
    const r = this.container.getBoundingClientRect();
    // Pixel ratio 1 for VRM (software GL), up to 2 for 2D (cheap, looks sharp).
    const dpr = (this.renderer && this.renderer.kind === "2d" ? Math.min(2, window.devicePixelRatio || 1) : 1) * this.renderScale;
    let w = Math.max(64, Math.round(r.width * dpr));
    let h = Math.max(64, Math.round(r.height * dpr));
    if (this.renderer && this.renderer.kind === "vrm") {
      // 3D cost grows with pixels and software GL is common (no GPU, remote desktops): draw at
      // most 640x480 (times the render scale) and let CSS scale it up.
      const budget = 640 * 480 * this.renderScale * this.renderScale;
      const k = Math.min(1, Math.sqrt(budget / (w * h)));
      w = Math.round(w * k);
      h = Math.round(h * k);
    }
    return { w, h };
  }

  _fit() {
    if (!this.renderer) return;
    const { w, h } = this._size();
    const c = this.renderer.canvas;
    if (c && (c.width !== w || c.height !== h)) this._dirty = true;
    this.renderer.resize(w, h);
  }

  /** The draw-rate cap for the kind shown (0: none); "vrm-software" applies under software GL. */
  fpsCap() {
    const m = this.maxFps;
    if (!m) return 0;
    if (typeof m === "number") return m;
    const r = this.renderer;
    if (!r) return 0;
    if (r.softwareGl && m[`${r.kind}-software`]) return m[`${r.kind}-software`];
    return m[r.kind] || 0;
  }

  start() {
    if (this.running) return;
    this.running = true;
    const loop = (t) => {
      if (!this.running) return;
      this._raf = requestAnimationFrame(loop);
      if (!this.renderer) return;
      if (!this._dirty && this.needsRender && !this.needsRender(t)) return;
      const cap = this.fpsCap();
      if (cap) {
        const due = nextDue(t, this._due, 1000 / cap);
        if (due === null) return;
        this._due = due;
      }
      this._dirty = false;
      const params = this.source(t);
      const t0 = performance.now();
      this.renderer.render(params, t);
      const now = performance.now();
      this.drawMs += now - t0;
      this.count += 1;
      this.frames.push(now);
      if (this.frames.length > 480) this.frames.splice(0, 240); // trimmed in batches, not every frame
      if (this.onRendered) this.onRendered(now);
    };
    this._raf = requestAnimationFrame(loop);
  }

  stop() {
    this.running = false;
    cancelAnimationFrame(this._raf);
  }

  /** Render fps over the last `windowMs`. */
  fps(windowMs = 2000) {
    const now = performance.now();
    const recent = this.frames.filter((t) => now - t <= windowMs);
    if (recent.length < 2) return 0;
    // Up to now, not to the last draw: draws are skipped while nothing changes.
    return ((recent.length - 1) * 1000) / (now - recent[0]);
  }

  dispose() {
    this.stop();
    this._ro.disconnect();
    if (this.renderer) this.renderer.dispose();
    if (this.canvas) this.canvas.remove();
    this.renderer = null;
  }
}
