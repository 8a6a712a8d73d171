// Actor response curves and shortcut keys, shared by the actor editor and the trackers.
// The formulas match characters/avatars/actor_settings.py (apply_curve, normalize_key).

/** Map a raw blendshape score through {inMin, inMax, outMin, outMax, gamma}; clamps to the ranges. */
export function applyCurve(value, curve) {
  const span = curve.inMax - curve.inMin;
  let t = span <= 0 ? 0 : (value - curve.inMin) / span;
  t = Math.min(1, Math.max(0, t)) ** (curve.gamma ?? 1);
  return curve.outMin + (curve.outMax - curve.outMin) * t;
}

/** Apply per-blendshape curves and the three sensitivity groups to a {name: score} map. */
export function applySettings(scores, settings) {
  const out = {};
  const sens = (settings && settings.sensitivity) || {};
  const curves = (settings && settings.curves) || {};
  for (const [name, raw] of Object.entries(scores)) {
    let value = curves[name] ? applyCurve(raw, curves[name]) : raw;
    value *= sensitivityFor(name, sens);
    out[name] = Math.max(0, Math.min(1, value));
  }
  return out;
}

/** Which sensitivity slider scales an ARKit blendshape. */
export function sensitivityGroup(name) {
  if (name.startsWith("eyeLook")) return "gaze";
  if (name.startsWith("brow")) return "eyebrows";
  if (name.startsWith("mouth") || name.startsWith("jaw") || name.startsWith("cheek") || name === "tongueOut") return "mouth";
  return null;
}

function sensitivityFor(name, sens) {
  const group = sensitivityGroup(name);
  return group && typeof sens[group] === "number" ? sens[group] : 1;
}

const MODIFIERS = ["Ctrl", "Alt", "Shift", "Meta"];
export const KEY_PATTERN = /^(?:(?:Ctrl|Alt|Shift|Meta)\+){0,3}(?:[A-Z0-9]|F(?:[1-9]|1[0-2])|Numpad[0-9])$/;

/** "Ctrl+Shift+A" from a KeyboardEvent-like {key, code, ctrlKey, altKey, shiftKey, metaKey}; null for other keys. */
export function keyFromEvent(event) {
  const mods = [];
  if (event.ctrlKey) mods.push("Ctrl");
  if (event.altKey) mods.push("Alt");
  if (event.shiftKey) mods.push("Shift");
  if (event.metaKey) mods.push("Meta");
  let main = null;
  const code = event.code || "";
  if (/^Key[A-Z]$/.test(code)) main = code.slice(3);
  else if (/^Digit[0-9]$/.test(code)) main = code.slice(5);
  else if (/^Numpad[0-9]$/.test(code)) main = code;
  else if (/^F([1-9]|1[0-2])$/.test(event.key || "")) main = event.key;
  if (!main) return null;
  const key = [...mods, main].join("+");
  return KEY_PATTERN.test(key) ? key : null;
}

/** Canonical form of a typed key name ("shift+ctrl+a" -> "Ctrl+Shift+A"). */
export function normalizeKey(text) {
  const parts = String(text).split("+").map((p) => p.trim());
  const last = parts.pop() || "";
  const mods = [...new Set(parts.map((p) => p.charAt(0).toUpperCase() + p.slice(1).toLowerCase()))];
  const rank = (m) => (MODIFIERS.includes(m) ? MODIFIERS.indexOf(m) : 99);
  mods.sort((a, b) => rank(a) - rank(b));
  const main = last.length === 1 ? last.toUpperCase() : last.charAt(0).toUpperCase() + last.slice(1);
  return [...mods, main].join("+");
}
