// Actor editor: sensitivity slider read-outs, a per-blendshape curve editor (drag the two
// handles or type numbers), a shortcut editor (capture a key, mix expressions, try it on the
// preview). The editors write JSON into the form's textareas, which the server validates.
// "Preview with my camera" tracks your face and shows it on the avatar through the sliders and
// curves as they are in the form (not yet saved), with a readout of raw and resulting scores;
// with the body/hand flags on, the arms and fingers follow too (mirror and the body/finger
// sensitivities as they stand in the form), and each tracker's rate is shown.
import { armAngles } from "../avatar/body_bones.js";
import { presetWeights } from "../avatar/vrm_renderer.js";
import { BLENDSHAPE_NAMES, BS } from "../call/frame_codec.js";
import { LiveFacePreview } from "../tracking/live_preview.js";
import { createVrmViewer } from "../viewer/vrm_viewer.js";
import { applyCurve, keyFromEvent } from "../viewer/curves.js";
import { el } from "../dom.js";

const configNode = document.getElementById("actor-editor-config");
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

const clamp01 = (v) => Math.max(0, Math.min(1, Number.isFinite(v) ? v : 0));
const round2 = (v) => Math.round(v * 100) / 100;

function parseJson(textarea, fallback) {
  try {
    const value = JSON.parse(textarea.value || "null");
    return value ?? fallback;
  } catch {
    return fallback;
  }
}

if (configNode) {
  const config = JSON.parse(configNode.textContent);
  const s = config.strings;
  const curvesText = document.getElementById("curves-json");
  const shortcutsText = document.getElementById("shortcuts-json");
  let curves = parseJson(curvesText, {});
  let shortcuts = parseJson(shortcutsText, []);
  if (typeof curves !== "object" || Array.isArray(curves)) curves = {};
  if (!Array.isArray(shortcuts)) shortcuts = [];
  let viewer = null;

  let live = null; // the camera preview, while it runs
  /** The settings as the form holds them now (server schema), for the live preview. */
  const formSettings = () => {
    const sensitivity = {};
    for (const key of ["gaze", "eyebrows", "mouth"]) {
      const range = document.getElementById(`sens-${key}`);
      if (range) sensitivity[key] = Number(range.value);
    }
    const flag = (name) => Boolean(document.querySelector(`#actor-form input[name=${name}]`)?.checked);
    const range = (id) => Number(document.getElementById(id)?.value ?? 1);
    return {
      sensitivity, curves,
      bodyTracking: flag("bodyTracking"), handTracking: flag("handTracking"), mirror: flag("mirror"),
      bodySensitivity: range("sens-body"), handSensitivity: range("sens-hands"),
    };
  };
  const settingsChanged = () => { if (live) live.setSettings(formSettings()); };

  // --- sliders -------------------------------------------------------------------------------
  for (const range of document.querySelectorAll(".av-sliders input[type=range]")) {
    const output = document.querySelector(`output[for="${range.id}"]`);
    range.addEventListener("input", () => {
      if (output) output.textContent = Number(range.value).toFixed(2);
      settingsChanged();
    });
  }

  // The tracker flags and mirror apply to the preview at once (body trackers start or stop).
  for (const box of document.querySelectorAll("#actor-form input[type=checkbox]")) {
    box.addEventListener("change", settingsChanged);
  }

  // --- curves ---------------------------------------------------------------------------------
  const curveRoot = document.getElementById("curve-editor");
  const saveCurves = () => { curvesText.value = JSON.stringify(curves, null, 1); settingsChanged(); };

  function curvePlot(name) {
    const c = curves[name];
    const size = 140;
    const pad = 8;
    const x = (v) => pad + v * (size - 2 * pad);
    const y = (v) => size - pad - v * (size - 2 * pad);
    const plot = svg("svg", { viewBox: `0 0 ${size} ${size}`, role: "img", "aria-label": `${name}: ${s.input} → ${s.output}` });
    plot.append(svg("line", { x1: x(0), y1: y(0), x2: x(1), y2: y(1), stroke: "#ccc", "stroke-dasharray": "3 3" }));
    const line = svg("polyline", { fill: "none", stroke: "#5b3fe0", "stroke-width": 2 });
    const lo = svg("circle", { r: 6, fill: "#5b3fe0", tabindex: "0" });
    const hi = svg("circle", { r: 6, fill: "#5b3fe0", tabindex: "0" });
    plot.append(line, lo, hi);
    const redraw = () => {
      const points = [];
      for (let i = 0; i <= 40; i += 1) points.push(`${x(i / 40)},${y(applyCurve(i / 40, c))}`);
      line.setAttribute("points", points.join(" "));
      lo.setAttribute("cx", x(c.inMin)); lo.setAttribute("cy", y(c.outMin));
      hi.setAttribute("cx", x(c.inMax)); hi.setAttribute("cy", y(c.outMax));
    };
    const drag = (handle, which) => {
      handle.addEventListener("pointerdown", (event) => {
        handle.setPointerCapture(event.pointerId);
        const move = (e) => {
          const box = plot.getBoundingClientRect();
          const vx = round2(clamp01((e.clientX - box.left) / box.width * size / (size - 2 * pad) - pad / (size - 2 * pad)));
          const vy = round2(clamp01(1 - ((e.clientY - box.top) / box.height * size - pad) / (size - 2 * pad)));
          if (which === "lo") { c.inMin = Math.min(vx, c.inMax - 0.01); c.outMin = vy; } else { c.inMax = Math.max(vx, c.inMin + 0.01); c.outMax = vy; }
          c.inMin = round2(Math.max(0, c.inMin)); c.inMax = round2(Math.min(1, c.inMax));
          redraw(); syncInputs(name); saveCurves();
        };
        const up = () => { handle.removeEventListener("pointermove", move); handle.removeEventListener("pointerup", up); };
        handle.addEventListener("pointermove", move);
        handle.addEventListener("pointerup", up);
      });
    };
    drag(lo, "lo");
    drag(hi, "hi");
    redraw();
    plot.redraw = redraw;
    return plot;
  }

  const inputsByCurve = new Map();
  function syncInputs(name) {
    const inputs = inputsByCurve.get(name);
    if (!inputs) return;
    for (const [key, input] of Object.entries(inputs.fields)) input.value = curves[name][key];
    inputs.example.textContent = s.example.replace("%(in)s", "0.4").replace("%(out)s", applyCurve(0.4, curves[name]).toFixed(2));
  }

  function renderCurves() {
    curveRoot.replaceChildren();
    inputsByCurve.clear();
    const names = Object.keys(curves);
    if (!names.length) curveRoot.append(el("p", { class: "muted", text: s.noCurves }));
    for (const name of names) {
      const c = curves[name];
      c.gamma = c.gamma ?? 1;
      const plot = curvePlot(name);
      const fields = {};
      const row = el("div", { class: "row" });
      for (const key of ["inMin", "inMax", "outMin", "outMax", "gamma"]) {
        const input = el("input", { type: "number", step: key === "gamma" ? "0.1" : "0.05", min: key === "gamma" ? "0.1" : "0", max: key === "gamma" ? "10" : "1", "aria-label": `${name} ${key}` });
        input.value = c[key];
        input.addEventListener("change", () => { c[key] = Number(input.value); plot.redraw(); syncInputs(name); saveCurves(); });
        fields[key] = input;
        row.append(el("label", { text: s[key] || key }), input);
      }
      const remove = el("button", { type: "button", class: "button small danger", text: s.remove });
      remove.addEventListener("click", () => { delete curves[name]; saveCurves(); renderCurves(); });
      const example = el("p", { class: "muted" });
      inputsByCurve.set(name, { fields, example });
      curveRoot.append(el("div", { class: "av-curve", "data-curve": name }, [plot, el("div", {}, [el("strong", { text: name }), row, example, remove])]));
      syncInputs(name);
    }
    const free = config.arkit.filter((n) => !(n in curves));
    const select = el("select", { "aria-label": s.addCurve });
    for (const n of free) select.append(el("option", { value: n, text: n }));
    const add = el("button", { type: "button", class: "button small secondary", text: s.addCurve });
    add.addEventListener("click", () => {
      if (!select.value) return;
      curves[select.value] = { inMin: 0, inMax: 1, outMin: 0, outMax: 1, gamma: 1 };
      saveCurves();
      renderCurves();
    });
    curveRoot.append(el("div", { class: "row" }, [select, add]));
  }

  // --- shortcuts ------------------------------------------------------------------------------
  const shortcutRoot = document.getElementById("shortcut-editor");
  const saveShortcuts = () => { shortcutsText.value = JSON.stringify(shortcuts, null, 1); };

  function tryShortcut(shortcut) {
    if (!viewer) return;
    viewer.setFaceWeights(shortcut.weights);
    setTimeout(() => viewer && viewer.resetExpressions(), 1500);
  }

  function renderShortcuts() {
    shortcutRoot.replaceChildren();
    // The preview's hint names the shortcuts' keys and Try buttons: shown only while there are some.
    const hint = document.getElementById("shortcut-hint");
    if (hint) hint.hidden = !shortcuts.length;
    if (!shortcuts.length) shortcutRoot.append(el("p", { class: "muted", text: s.noShortcuts }));
    shortcuts.forEach((shortcut, index) => {
      shortcut.weights = shortcut.weights || {};
      const keyButton = el("button", { type: "button", class: "button small secondary keycap", text: shortcut.key || s.pressKey, "aria-label": s.key });
      keyButton.addEventListener("click", () => {
        keyButton.textContent = s.pressKey;
        const capture = (event) => {
          const key = keyFromEvent(event);
          if (!key) return;
          event.preventDefault();
          shortcut.key = key;
          keyButton.textContent = key;
          saveShortcuts();
          window.removeEventListener("keydown", capture, true);
        };
        window.addEventListener("keydown", capture, true);
      });
      const label = el("input", { type: "text", maxlength: "40", placeholder: s.label, "aria-label": s.label });
      label.value = shortcut.label || "";
      label.addEventListener("input", () => { shortcut.label = label.value; saveShortcuts(); });
      const tryButton = el("button", { type: "button", class: "button small", text: s.test });
      tryButton.addEventListener("click", () => tryShortcut(shortcut));
      const remove = el("button", { type: "button", class: "button small danger", text: s.remove });
      remove.addEventListener("click", () => { shortcuts.splice(index, 1); saveShortcuts(); renderShortcuts(); });

      const weights = el("div", {});
      for (const [name, weight] of Object.entries(shortcut.weights)) {
        const range = el("input", { type: "range", min: "0", max: "1", step: "0.05", "aria-label": name });
        range.value = weight;
        const out = el("output", { text: Number(weight).toFixed(2) });
        range.addEventListener("input", () => { shortcut.weights[name] = Number(range.value); out.textContent = Number(range.value).toFixed(2); saveShortcuts(); });
        const drop = el("button", { type: "button", class: "button small secondary", text: "×", "aria-label": `${s.remove} ${name}` });
        drop.addEventListener("click", () => { delete shortcut.weights[name]; saveShortcuts(); renderShortcuts(); });
        weights.append(el("div", { class: "row" }, [el("span", { text: name }), range, out, drop]));
      }
      const choose = el("select", { "aria-label": s.addWeight });
      for (const name of config.expressions.filter((n) => !(n in shortcut.weights))) choose.append(el("option", { value: name, text: name }));
      const addWeight = el("button", { type: "button", class: "button small secondary", text: s.addWeight });
      addWeight.addEventListener("click", () => {
        if (!choose.value) return;
        shortcut.weights[choose.value] = 1;
        saveShortcuts();
        renderShortcuts();
      });
      shortcutRoot.append(el("div", { class: "av-shortcut", "data-shortcut": String(index) }, [
        el("div", { class: "row" }, [keyButton, label, tryButton, remove]),
        weights,
        el("div", { class: "row" }, [choose, addWeight]),
      ]));
    });
    const add = el("button", { type: "button", class: "button small secondary", text: s.addShortcut });
    add.addEventListener("click", () => { shortcuts.push({ key: "", label: "", weights: {} }); saveShortcuts(); renderShortcuts(); });
    shortcutRoot.append(add);
  }

  // Hand edits of the JSON re-render the editors when they parse.
  curvesText.addEventListener("change", () => { const v = parseJson(curvesText, null); if (v && typeof v === "object" && !Array.isArray(v)) { curves = v; renderCurves(); settingsChanged(); } });
  shortcutsText.addEventListener("change", () => { const v = parseJson(shortcutsText, null); if (Array.isArray(v)) { shortcuts = v; renderShortcuts(); } });
  renderCurves();
  renderShortcuts();

  // --- preview --------------------------------------------------------------------------------
  const canvas = document.getElementById("avatar-canvas");
  const status = document.getElementById("avatar-status");
  if (canvas) {
    createVrmViewer(canvas, {
      url: config.url,
      onProgress: (f) => { status.textContent = `${s.loading} ${Math.round(f * 100)}%`; },
    }).then((v) => {
      viewer = v;
      status.textContent = "";
      canvas.dataset.state = "ready";
    }).catch((error) => {
      status.textContent = s.failed;
      canvas.dataset.state = "failed";
      console.error(error);
    });
  }
  // Shortcut keys drive the preview while focus is not in a text field.
  window.addEventListener("keydown", (event) => {
    if (event.target.closest && event.target.closest("input, textarea, select")) return;
    const key = keyFromEvent(event);
    const hit = key && shortcuts.find((sc) => sc.key === key);
    if (hit && viewer) { event.preventDefault(); viewer.setFaceWeights(hit.weights); }
  });
  window.addEventListener("keyup", () => { if (viewer) viewer.resetExpressions(); });

  // --- live preview of your own face ----------------------------------------------------------
  const liveRoot = document.getElementById("actor-live");
  const liveButton = document.getElementById("actor-live-toggle");
  const liveStatus = document.getElementById("actor-live-status");
  const readout = document.getElementById("actor-live-readout");
  const ratesLine = document.getElementById("actor-live-rates");
  let lastBody = null;
  let bodyError = false;
  let ratesTimer = 0;
  const fps = (v) => (v === null ? s.trackerOff : s.fps.replace("%(n)s", v.toFixed(1)));
  const renderRates = () => {
    if (!live) return;
    const r = live.rates();
    ratesLine.textContent = s.rates
      .replace("%(face)s", fps(r.face))
      .replace("%(body)s", r.wanted && !r.bodyOn ? s.trackerLoading : fps(r.body))
      .replace("%(hands)s", r.wanted && !r.bodyOn && formSettings().handTracking ? s.trackerLoading : fps(r.hands))
      + (bodyError ? ` ${s.bodyFailed}` : "");
    ratesLine.dataset.body = r.bodyOn ? "on" : "off";
  };
  const onBody = (body) => {
    lastBody = body;
    if (viewer) viewer.setBody(body);
  };
  const READOUT = ["jawOpen", "mouthSmileLeft", "browInnerUp", "eyeLookUpLeft"];
  const weights = {};
  let lastRaw = null;
  let lastOut = null;
  let lastReadout = 0;
  // While your camera drives the preview, the preview follows you down the form: when its place
  // scrolls out of view the stage floats, small, in a corner (on a phone the sliders are a screen
  // away from it). The slot keeps the stage's height, so nothing below it jumps.
  const slot = document.querySelector(".av-stage-slot");
  const stage = slot && slot.querySelector(".av-stage");
  let slotVisible = true;
  const updateFloat = () => {
    if (!stage) return;
    const float = Boolean(live) && !slotVisible;
    if (float && !stage.classList.contains("floating")) slot.style.height = `${slot.offsetHeight}px`;
    if (!float) slot.style.height = "";
    stage.classList.toggle("floating", float);
  };
  if (slot && typeof IntersectionObserver === "function") {
    new IntersectionObserver(([entry]) => {
      slotVisible = entry.isIntersecting;
      updateFloat();
    }).observe(slot);
  }
  const setLiveUi = (on) => {
    updateFloat();
    if (viewer) viewer.setFraming(on); // your face's movements are seen at face size
    liveButton.setAttribute("aria-pressed", String(on));
    liveButton.textContent = on ? s.liveStop : s.liveStart;
    readout.hidden = !on;
    ratesLine.hidden = !on;
    clearInterval(ratesTimer);
    if (on) ratesTimer = setInterval(renderRates, 500);
  };
  const renderReadout = () => {
    const names = [...new Set([...READOUT, ...Object.keys(curves)])].filter((n) => BS[n] !== undefined);
    const body = readout.tBodies[0];
    body.replaceChildren(...names.map((n) => el("tr", { "data-shape": n }, [
      el("th", { scope: "row", text: n }),
      el("td", { text: lastRaw[BS[n]].toFixed(2) }),
      el("td", { text: lastOut[BS[n]].toFixed(2) }),
    ])));
  };
  const onFrame = ({ found, rotation, raw, out }) => {
    lastRaw = Float32Array.from(raw);
    lastOut = Float32Array.from(out);
    liveStatus.textContent = found ? s.liveOn : s.liveNoFace;
    if (viewer) {
      viewer.playClip(null); // the face turns the head now
      viewer.setHeadRotation(rotation);
      Object.assign(weights, presetWeights({ blendshapes: out }));
      viewer.setFaceWeights(weights);
    }
    const now = performance.now();
    if (now - lastReadout > 100) { // the table at 10 Hz is plenty to read
      lastReadout = now;
      renderReadout();
    }
  };
  const stopLive = () => {
    if (live) live.stop();
    live = null;
    setLiveUi(false);
    liveStatus.textContent = "";
    lastBody = null;
    if (viewer) { viewer.setBody(null); viewer.resetExpressions(); viewer.setIdle(true); }
  };
  if (liveButton && liveRoot) {
    liveButton.addEventListener("click", async () => {
      if (live) { stopLive(); return; }
      const d = liveRoot.dataset;
      live = new LiveFacePreview({
        workerUrl: d.workerUrl, modelUrl: d.modelUrl, wasmBase: d.wasmBase, onFrame,
        onError: () => { stopLive(); liveStatus.textContent = s.liveFailed; },
        bodyWorkerUrl: d.bodyWorkerUrl, legacyBase: d.legacyBase, onBody,
        onBodyError: (err) => { console.warn("body tracking failed", err); bodyError = true; },
      });
      bodyError = false;
      live.setSettings(formSettings());
      setLiveUi(true);
      liveButton.disabled = true;
      liveStatus.textContent = s.liveStarting;
      if (viewer) viewer.playClip(null); // the face turns the head now
      try {
        await live.start();
      } catch (err) {
        console.warn("live preview failed", err);
        stopLive();
        liveStatus.textContent = s.liveFailed;
      } finally {
        liveButton.disabled = false;
      }
    });
    window.addEventListener("pagehide", () => { if (live) live.stop(); });
  }
  /** Read-only numbers for the browser tests. */
  const named = (arr) => (arr ? Object.fromEntries(BLENDSHAPE_NAMES.map((n, i) => [n, arr[i]])) : null);
  window.__afActorPreview = {
    get running() { return Boolean(live && live.running); },
    get results() { return live ? live.results : 0; },
    get faces() { return live ? live.faces : 0; },
    get viewerReady() { return Boolean(viewer); },
    get bodyResults() { return live ? live.poseRate.count : 0; },
    get handResults() { return live ? live.handRate.count : 0; },
    get bodyOn() { return Boolean(live && live.body); },
    get handsOn() { return Boolean(live && live.body && live.body.handsOn); },
    rates() { return live ? live.rates() : null; },
    /** The solved arm angles (radians) of the last body result, or null. */
    arms() { return lastBody ? armAngles(lastBody) : null; },
    /** The last body section's spine and chest rotations and finger angles (plain arrays). */
    body() { return lastBody ? { bones: Array.from(lastBody.bones), fingers: Array.from(lastBody.fingers) } : null; },
    /** Each hand bone's height above its shoulder on the previewed model (metres). */
    handHeights() { return viewer && viewer.handHeights ? viewer.handHeights() : null; },
    /** The last frame: raw tracked scores and what the avatar shows, by ARKit name, in one snapshot. */
    frame() { return { raw: named(lastRaw), out: named(lastOut), weights: { ...weights } }; },
  };
}
