// An actor's tracker settings applied to tracked blendshapes, on the sending side (so the other
// person sees exactly what the actor settings make of the face):
//   - sensitivity 0..SENSITIVITY_MAX (2) per region: gaze (eyeLook*), eyebrows (brow*), mouth/cheeks
//     (mouth*, jaw*, cheek*); 1 passes scores unchanged, 0 freezes the region at rest, above 1 boosts
//     (a subtle face moves the avatar more; the boosted score is clamped to 1);
//   - per-blendshape response curves: an input range mapped to an output range (the seed's
//     "moving 0.4 already gives 0.8": {in: [0, 0.4], out: [0, 0.8]}), or a list of points;
//   - expression shortcuts: a key that holds (or toggles) a set of expression weights.
// normalizeSettings() accepts the server's schema (characters.actor_settings) leniently: unknown
// keys are ignored, bad values fall back to defaults, so a newer server never breaks the page.
import { BLENDSHAPE_NAMES, BS } from "../call/frame_codec.js";

const REGION = new Array(BLENDSHAPE_NAMES.length).fill(null);
BLENDSHAPE_NAMES.forEach((name, i) => {
  if (name.startsWith("eyeLook")) REGION[i] = "gaze";
  else if (name.startsWith("brow")) REGION[i] = "eyebrows";
  else if (name.startsWith("mouth") || name.startsWith("jaw") || name.startsWith("cheek")) REGION[i] = "mouth";
});

const num = (v, dflt) => (typeof v === "number" && Number.isFinite(v) ? v : dflt);
const clamp01 = (v) => Math.max(0, Math.min(1, v));

/** The largest sensitivity (boost) a region takes; characters/avatars/actor_settings.py SENSITIVITY_MAX. */
export const SENSITIVITY_MAX = 2;
const clampSens = (v) => Math.max(0, Math.min(SENSITIVITY_MAX, v));

/** Piecewise-linear curve through sorted points [[x, y], ...] (x, y in 0..1). */
function makeCurve(points) {
  const pts = points
    .filter((p) => Array.isArray(p) && p.length >= 2)
    .map(([x, y]) => [clamp01(num(x, 0)), clamp01(num(y, 0))])
    .sort((a, b) => a[0] - b[0]);
  if (pts.length < 2) return null;
  return (v) => {
    if (v <= pts[0][0]) return pts[0][1];
    for (let i = 1; i < pts.length; i++) {
      const [x1, y1] = pts[i];
      if (v <= x1) {
        const [x0, y0] = pts[i - 1];
        return x1 === x0 ? y1 : y0 + ((v - x0) / (x1 - x0)) * (y1 - y0);
      }
    }
    return pts[pts.length - 1][1];
  };
}

function curveFrom(spec) {
  if (!spec || typeof spec !== "object") return null;
  if (Array.isArray(spec)) return makeCurve(spec);
  if (Array.isArray(spec.points)) return makeCurve(spec.points);
  // Server schema: {inMin, inMax, outMin, outMax, gamma} (characters.actor_settings.apply_curve);
  // also {in: [a, b], out: [c, d]}.
  const inR = Array.isArray(spec.in) ? spec.in : [spec.inMin, spec.inMax];
  const outR = Array.isArray(spec.out) ? spec.out : [spec.outMin, spec.outMax];
  const a = num(inR[0], 0), b = num(inR[1], 1), c = num(outR[0], 0), d = num(outR[1], 1);
  const gamma = Math.max(0.05, num(spec.gamma, 1));
  const span = b - a;
  return (v) => {
    const t = span <= 0 ? 0 : clamp01((v - a) / span) ** gamma;
    return clamp01(c + t * (d - c));
  };
}

const MOD_ORDER = ["Ctrl", "Alt", "Shift", "Meta"];

/** Canonical shortcut key, as characters.actor_settings.normalize_key writes it ("ctrl+a" -> "Ctrl+A"). */
export function normalizeKey(key) {
  if (typeof key !== "string" || !key.trim()) return null;
  const parts = key.split("+").map((s) => s.trim());
  const last = parts.pop();
  if (!last) return null;
  const mods = [...new Set(parts.map((m) => m.charAt(0).toUpperCase() + m.slice(1).toLowerCase()))]
    .filter((m) => MOD_ORDER.includes(m))
    .sort((a, b) => MOD_ORDER.indexOf(a) - MOD_ORDER.indexOf(b));
  const main = last.length === 1 ? last.toUpperCase() : last.charAt(0).toUpperCase() + last.slice(1);
  return [...mods, main].join("+");
}

/** The canonical key of a KeyboardEvent (layout-independent: uses event.code). */
export function eventKey(event) {
  const code = event.code || "";
  let main;
  if (/^Key[A-Z]$/.test(code)) main = code.slice(3);
  else if (/^Digit[0-9]$/.test(code)) main = code.slice(5);
  else if (/^(F[0-9]{1,2}|Numpad[0-9])$/.test(code)) main = code;
  else main = event.key && event.key.length === 1 ? event.key.toUpperCase() : event.key || "";
  const mods = [];
  if (event.ctrlKey) mods.push("Ctrl");
  if (event.altKey) mods.push("Alt");
  if (event.shiftKey) mods.push("Shift");
  if (event.metaKey) mods.push("Meta");
  return [...mods, main].join("+");
}

/**
 * @returns {{faceTracking:boolean, bodyTracking:boolean, handTracking:boolean, mirror:boolean,
 *            bodySensitivity:number, handSensitivity:number, sensitivity:{gaze:number, eyebrows:number, mouth:number},
 *            curves:Map<number, function>, shortcuts:Array<{key:string, label:string, weights:Object, mode:string}>}}
 */
export function normalizeSettings(raw) {
  const s = raw && typeof raw === "object" ? raw : {};
  const sens = (s.sensitivity && typeof s.sensitivity === "object") ? s.sensitivity : s;
  const sensitivity = {
    gaze: clampSens(num(sens.gaze, 1)),
    eyebrows: clampSens(num(sens.eyebrows ?? sens.eyebrow ?? sens.brows, 1)),
    mouth: clampSens(num(sens.mouth ?? sens.mouth_cheeks ?? sens.mouthCheeks, 1)),
  };
  const curves = new Map();
  const rawCurves = s.curves || s.blendshape_curves || s.blendshapeCurves || {};
  const entries = Array.isArray(rawCurves)
    ? rawCurves.map((c) => [c && (c.name || c.blendshape), c])
    : Object.entries(rawCurves);
  for (const [name, spec] of entries) {
    const i = BS[name];
    const fn = curveFrom(spec);
    if (i !== undefined && fn) curves.set(i, fn);
  }
  const shortcuts = [];
  const rawShortcuts = s.shortcuts || s.expression_shortcuts || s.expressionShortcuts || [];
  const list = Array.isArray(rawShortcuts)
    ? rawShortcuts
    : Object.entries(rawShortcuts).map(([key, v]) => ({ key, ...(v && v.weights ? v : { weights: v }) }));
  for (const sc of list) {
    if (!sc || typeof sc !== "object") continue;
    const key = normalizeKey(sc.key);
    const weights = {};
    const w = sc.weights || sc.expressions || {};
    for (const [name, value] of Object.entries(w)) {
      if (typeof name === "string" && name.length <= 64) weights[name] = clamp01(num(value, 0));
    }
    if (key && Object.keys(weights).length) {
      shortcuts.push({ key, label: String(sc.label || sc.name || sc.key).slice(0, 40), weights, mode: sc.mode === "toggle" ? "toggle" : "hold" });
    }
  }
  const faceTracking = s.faceTracking ?? s.face_tracking;
  return {
    faceTracking: faceTracking !== false,
    // Body and hands (issue 18): off unless the actor turns them on.
    bodyTracking: s.bodyTracking === true,
    handTracking: s.handTracking === true,
    mirror: s.mirror === true,
    bodySensitivity: clampSens(num(s.bodySensitivity, 1)),
    handSensitivity: clampSens(num(s.handSensitivity, 1)),
    sensitivity,
    curves,
    shortcuts,
  };
}

/**
 * Apply sensitivity (relative to the rest value: a calibrated neutral is 0) then curves, in place.
 * @param {Float32Array} bs blendshapes
 */
export function applySettings(bs, settings) {
  const { sensitivity, curves } = settings;
  for (let i = 1; i < bs.length; i++) {
    const region = REGION[i];
    if (region) bs[i] = Math.min(1, bs[i] * sensitivity[region]);
    const curve = curves.get(i);
    if (curve) bs[i] = curve(bs[i]);
  }
  bs[BS._neutral] = clamp01(bs[BS._neutral]);
  return bs;
}

/** Tracks which shortcuts are active from keyboard events and merges their weights. */
export class ShortcutState {
  constructor(settings) {
    this.setSettings(settings);
  }

  setSettings(settings) {
    this.shortcuts = settings ? settings.shortcuts : [];
    this.active = new Set();
  }

  /** @returns {boolean} whether the set of active expressions changed */
  keydown(event) {
    const k = eventKey(event);
    const sc = this.shortcuts.find((s) => s.key === k);
    if (!sc || event.repeat) return false;
    if (sc.mode === "toggle" && this.active.has(sc)) this.active.delete(sc);
    else if (this.active.has(sc)) return false;
    else this.active.add(sc);
    return true;
  }

  keyup(event) {
    let released = eventKey(event).split("+").pop();
    if (released === "Control") released = "Ctrl";
    let changed = false;
    for (const sc of [...this.active]) {
      // Releasing the main key or one of its modifiers ends a held shortcut.
      const parts = sc.key.split("+");
      if (sc.mode === "hold" && parts.includes(released)) {
        this.active.delete(sc);
        changed = true;
      }
    }
    return changed;
  }

  clear() {
    const had = this.active.size > 0;
    this.active.clear();
    return had;
  }

  /** Merged weights of all active shortcuts (max per name). */
  weights() {
    const out = {};
    for (const sc of this.active) {
      for (const [n, v] of Object.entries(sc.weights)) out[n] = Math.max(out[n] || 0, v);
    }
    return out;
  }
}
