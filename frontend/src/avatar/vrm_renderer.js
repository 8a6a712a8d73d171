// VRM avatar renderer (three + @pixiv/three-vrm) driven by the shared parameter object:
//   - expressions: blink / blinkLeft / blinkRight from the eye blendshapes, aa/ih/ou/ee/oh from
//     mouth shapes, happy/angry/sad/surprised/relaxed from the whole face;
//   - ARKit-named custom expressions (e.g. "jawOpen", "eyeBlinkLeft") get their blendshape
//     directly when the model has them;
//   - neck/head bones from head rotation, lookAt from gaze, spring bones updated;
//   - VRM 0.x models are turned to face the camera.
// Sized for software GL (no antialiasing, no shadows, pixel ratio 1). Under software GL
// (SwiftShader, llvmpipe) MToon's outline pass is switched off: it draws every skinned mesh a
// second time and cost ~40% of a frame (Godette at 640x480 under SwiftShader: ~41 ms of CPU per
// frame with outlines, ~24 ms without). The call's adaptive quality can switch "effects" off
// (setEffects): outlines hidden everywhere, spring bones (hair, cloth) held still. No per-frame
// allocations in render().
import * as THREE from "three";
import { GLTFLoader } from "three/examples/jsm/loaders/GLTFLoader.js";
import { VRMLoaderPlugin, VRMUtils } from "@pixiv/three-vrm";
import { BLENDSHAPE_NAMES, BS, clamp01, gaze } from "./params.js";
import { BODY_DRIVEN_BONES, boneRotations } from "./body_bones.js";

export class WebGLUnavailableError extends Error {
  constructor(message) {
    super(message || "WebGL is not available");
    this.code = "webgl_unavailable";
  }
}

/** How far each hand bone is above its shoulder (upper arm) on `vrm` as posed (metres, world y),
 * or null without a humanoid: what tests and the actor editor read to see an arm rise. */
export function handHeights(vrm) {
  const h = vrm && vrm.humanoid;
  if (!h) return null;
  vrm.scene.updateMatrixWorld(true);
  const a = new THREE.Vector3();
  const b = new THREE.Vector3();
  const out = {};
  for (const side of ["left", "right"]) {
    const hand = h.getRawBoneNode(`${side}Hand`);
    const shoulder = h.getRawBoneNode(`${side}UpperArm`);
    if (!hand || !shoulder) return null;
    hand.getWorldPosition(a);
    shoulder.getWorldPosition(b);
    out[side] = a.y - b.y;
  }
  return out;
}

/**
 * Set a body section's rotations on a three-vrm humanoid's normalized bones. VRM 1.0 rotations;
 * on a VRM 0.x model (turned by VRMUtils.rotateVRM0) x and z flip sign. The neck's rotation goes
 * before what is already on the neck (the face's share of the head turn).
 */
export function applyBodyBones(humanoid, body, { vrm0 = false, q = new THREE.Quaternion() } = {}) {
  const s = vrm0 ? -1 : 1;
  for (const [name, r] of boneRotations(body)) {
    const node = humanoid.getNormalizedBoneNode(name);
    if (!node) continue;
    q.set(r[0] * s, r[1], r[2] * s, r[3]);
    if (name === "neck") node.quaternion.premultiply(q);
    else node.quaternion.copy(q);
  }
}

/** True when a WebGL (1 or 2) context can be created here. */
export function webglAvailable() {
  try {
    const c = document.createElement("canvas");
    const gl = c.getContext("webgl2") || c.getContext("webgl");
    if (!gl) return false;
    const lose = gl.getExtension("WEBGL_lose_context");
    if (lose) lose.loseContext();
    return true;
  } catch {
    return false;
  }
}

/** True when `gl` renders on the CPU (no GPU): SwiftShader, llvmpipe/softpipe, Microsoft's WARP. */
export function isSoftwareGl(gl) {
  try {
    const ext = gl.getExtension("WEBGL_debug_renderer_info");
    const name = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER) || "");
    return /swiftshader|llvmpipe|softpipe|software|basic render/i.test(name);
  } catch {
    return false;
  }
}

const ARKIT_LOWER = new Map(BLENDSHAPE_NAMES.map((n, i) => [n.toLowerCase(), i]));
const EMOTIONS = new Set(["happy", "angry", "sad", "surprised", "relaxed"]);
// Eyes whose blink scores differ by less than this count as one blink (the "blink" expression);
// a bigger difference is a wink or a squint (blinkLeft / blinkRight).
export const BLINK_AGREE = 0.2;

export function createPresetWeights() {
  return { blink: 0, blinkLeft: 0, blinkRight: 0, aa: 0, ih: 0, ou: 0, ee: 0, oh: 0, happy: 0, angry: 0, sad: 0, surprised: 0, relaxed: 0 };
}

/**
 * Preset expression weights from blendshapes (shared with tests through `presetWeights`).
 * Eyes: either `blink` (both eyes agree) or `blinkLeft`/`blinkRight`, never both: on typical
 * VRMs these morphs add up, so both at once would close an eye twice. `perEye: false` is for
 * models without blinkLeft/blinkRight: then `blink` carries the less closed eye.
 * @param {import("./params.js").AvatarParams} p
 * @param {ReturnType<typeof createPresetWeights>} [out] reused between frames
 */
export function presetWeights(p, out = createPresetWeights(), { perEye = true } = {}) {
  const b = p.blendshapes;
  const smile = (b[BS.mouthSmileLeft] + b[BS.mouthSmileRight]) * 0.5;
  const frown = (b[BS.mouthFrownLeft] + b[BS.mouthFrownRight]) * 0.5;
  const browDown = (b[BS.browDownLeft] + b[BS.browDownRight]) * 0.5;
  const browUp = b[BS.browInnerUp] * 0.6 + (b[BS.browOuterUpLeft] + b[BS.browOuterUpRight]) * 0.2;
  const wide = (b[BS.eyeWideLeft] + b[BS.eyeWideRight]) * 0.5;
  const jaw = clamp01(b[BS.jawOpen] - b[BS.mouthClose] * 0.5);
  const funnel = b[BS.mouthFunnel];
  const pucker = b[BS.mouthPucker];
  const stretch = (b[BS.mouthStretchLeft] + b[BS.mouthStretchRight]) * 0.5;
  const happy = clamp01((smile - 0.25) / 0.6);
  const surprised = clamp01((browUp * 0.6 + wide * 0.6 + jaw * 0.4 - 0.35) * 1.6);
  const angry = clamp01((browDown - 0.25) * 1.6) * (1 - happy);
  const sad = clamp01((frown * 0.8 + b[BS.browInnerUp] * 0.4 - browDown * 0.3 - 0.2) * 1.5) * (1 - happy);
  // Visemes: open jaw = aa; rounded = ou/oh; spread = ee/ih.
  const round = clamp01(pucker + funnel * 0.5);
  const aa = clamp01(jaw * 1.6 * (1 - round * 0.7));
  const oh = clamp01(funnel * 1.2 * (jaw > 0.08 ? 1 : 0.5));
  const ou = clamp01(pucker * 1.2 * (1 - funnel * 0.5));
  const ee = clamp01(stretch * 1.5 + (jaw > 0.05 ? smile * 0.2 : 0)) * (1 - round);
  const ih = clamp01(jaw * 0.6 * stretch * 2);
  // Smiling squints the eyes: don't let the blink eat the happy eye shape twice.
  const eyeK = 1 - happy * 0.5;
  const blinkL = clamp01((b[BS.eyeBlinkLeft] - 0.1) / 0.75) * eyeK;
  const blinkR = clamp01((b[BS.eyeBlinkRight] - 0.1) / 0.75) * eyeK;
  if (!perEye) {
    out.blink = Math.min(blinkL, blinkR);
    out.blinkLeft = out.blinkRight = 0;
  } else if (Math.abs(blinkL - blinkR) < BLINK_AGREE) {
    out.blink = (blinkL + blinkR) * 0.5;
    out.blinkLeft = out.blinkRight = 0;
  } else {
    out.blink = 0;
    out.blinkLeft = blinkL;
    out.blinkRight = blinkR;
  }
  out.aa = aa;
  out.ih = ih;
  out.ou = ou;
  out.ee = ee;
  out.oh = oh;
  out.happy = happy * 0.9;
  out.angry = angry;
  out.sad = sad;
  out.surprised = surprised;
  out.relaxed = 0;
  return out;
}

export class VrmRenderer {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{outlines?: "auto" | boolean}} [opts] MToon outlines; "auto": off under software GL
   */
  constructor(canvas, { outlines = "auto" } = {}) {
    this.kind = "vrm";
    this.canvas = canvas;
    this.vrm = null;
    this.meta = null;
    let renderer;
    try {
      renderer = new THREE.WebGLRenderer({ canvas, antialias: false, alpha: true, powerPreference: "high-performance" });
    } catch (err) {
      throw new WebGLUnavailableError(String(err && err.message || err));
    }
    renderer.setPixelRatio(1);
    renderer.outputColorSpace = THREE.SRGBColorSpace;
    renderer.shadowMap.enabled = false;
    this.renderer = renderer;
    this.softwareGl = isSoftwareGl(renderer.getContext());
    this.outlines = outlines === "auto" ? !this.softwareGl : Boolean(outlines);
    this.effects = true; // outlines (when this.outlines) and spring bones; see setEffects
    this._springs = null; // the model's spring bone manager, kept while effects are off
    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(28, canvas.width / Math.max(1, canvas.height), 0.05, 20);
    this.camera.position.set(0, 1.4, 1.2);
    const light = new THREE.DirectionalLight(0xffffff, Math.PI * 0.9);
    light.position.set(0.6, 1.6, 1.4);
    this.scene.add(light, new THREE.AmbientLight(0xffffff, Math.PI * 0.45));
    this.lastT = null;
    this._q = new THREE.Quaternion();
    this._e = new THREE.Euler(0, 0, 0, "YXZ");
    this.arkit = new Map(); // expression name -> blendshape index
    this.presets = new Set();
    this.perEyeBlink = true;
    this._weights = createPresetWeights();
    this._bones = []; // [node, share of the head rotation]
    this._faceNodes = new Set();
    this._bodyOn = false;
  }

  /** Load a VRM from bytes. @param {ArrayBuffer} buffer */
  async load(buffer) {
    const loader = new GLTFLoader();
    loader.register((parser) => new VRMLoaderPlugin(parser));
    const gltf = await loader.parseAsync(buffer, "");
    const vrm = gltf.userData.vrm;
    if (!vrm) throw Object.assign(new Error("The file is not a VRM avatar."), { code: "not_vrm" });
    VRMUtils.removeUnnecessaryVertices(gltf.scene);
    VRMUtils.combineSkeletons(gltf.scene);
    if (vrm.meta && vrm.meta.metaVersion === "0") VRMUtils.rotateVRM0(vrm);
    vrm.scene.traverse((o) => {
      o.frustumCulled = false;
    });
    if (this.vrm) this.disposeModel();
    this.vrm = vrm;
    this._springs = vrm.springBoneManager || null;
    this._applyEffects();
    this.isVrm0 = vrm.meta && vrm.meta.metaVersion === "0";
    this.scene.add(vrm.scene);
    if (vrm.lookAt) vrm.lookAt.autoUpdate = false;
    // Expressions the model has.
    this.arkit.clear();
    this.presets.clear();
    const em = vrm.expressionManager;
    if (em) {
      for (const ex of em.expressions) {
        const name = ex.expressionName;
        const idx = ARKIT_LOWER.get(String(name).toLowerCase());
        if (idx !== undefined && idx > 0) this.arkit.set(name, idx);
        else this.presets.add(name);
      }
    }
    this.perEyeBlink = this.presets.has("blinkLeft") && this.presets.has("blinkRight");
    const h = vrm.humanoid;
    this._bones = [];
    if (h) {
      const neck = h.getNormalizedBoneNode("neck");
      const head = h.getNormalizedBoneNode("head");
      const spine = h.getNormalizedBoneNode("upperChest") || h.getNormalizedBoneNode("chest") || h.getNormalizedBoneNode("spine");
      const parts = neck ? [[spine, 0.1], [neck, 0.35], [head, 0.55]] : [[spine, 0.15], [head, 0.85]];
      this._bones = parts.filter(([node]) => node);
    }
    this._faceNodes = new Set(this._bones.map(([node]) => node));
    this._bodyOn = false;
    this.frame();
    return vrm;
  }

  /** Effects on or off (adaptive quality): MToon outlines and spring bones. */
  setEffects(on) {
    const was = this.effects;
    this.effects = Boolean(on);
    if (was !== this.effects) this._applyEffects();
  }

  _applyEffects() {
    const vrm = this.vrm;
    if (!vrm) return;
    const outlines = this.outlines && this.effects;
    vrm.scene.traverse((o) => {
      if (!Array.isArray(o.material)) return;
      for (const m of o.material) if (m.isOutline) m.visible = outlines; // an invisible material is not drawn
    });
    // VRM.update() skips spring bones while the manager is unset; they restart from rest.
    if (this.effects && this._springs && !vrm.springBoneManager) this._springs.reset();
    vrm.springBoneManager = this.effects ? this._springs : null;
  }

  /** Put the camera on a head-and-shoulders shot (chibi and tall models alike). */
  frame() {
    const vrm = this.vrm;
    if (!vrm) return;
    this.restPose();
    vrm.update(0);
    vrm.scene.updateMatrixWorld(true);
    const box = new THREE.Box3().setFromObject(vrm.scene);
    const neckNode = vrm.humanoid && (vrm.humanoid.getRawBoneNode("neck") || vrm.humanoid.getRawBoneNode("head"));
    const neck = new THREE.Vector3();
    if (neckNode) neckNode.getWorldPosition(neck);
    else neck.set(0, box.min.y + (box.max.y - box.min.y) * 0.8, 0);
    const top = box.max.y;
    const headH = Math.max(0.08, top - neck.y);
    // Head plus shoulders: about 2.3 head heights of view, centred a quarter head above the neck,
    // so the head sits high in the picture (centred higher, a quarter of the stage above the
    // head was empty while the chest was cut).
    const viewH = headH * 2.3;
    const centreY = neck.y + headH * 0.25;
    const dist = viewH / 2 / Math.tan(THREE.MathUtils.degToRad(this.camera.fov / 2));
    this.target = new THREE.Vector3(neck.x, centreY, neck.z);
    this.camera.position.set(neck.x, centreY + headH * 0.05, neck.z + dist);
    this.camera.near = Math.max(0.01, dist / 50);
    this.camera.far = dist * 20;
    this.camera.updateProjectionMatrix();
    this.camera.lookAt(this.target);
  }

  /** Each hand bone's height above its shoulder (upper arm) in metres, on the model as drawn. */
  handHeights() {
    return handHeights(this.vrm);
  }

  /** Arms down from the T-pose (normalized bones; VRM 0.x space is turned 180 degrees). */
  restPose() {
    const h = this.vrm.humanoid;
    if (!h) return;
    const s = this.isVrm0 ? -1 : 1;
    const l = h.getNormalizedBoneNode("leftUpperArm");
    const r = h.getNormalizedBoneNode("rightUpperArm");
    if (l) l.rotation.set(0, 0, -1.2 * s);
    if (r) r.rotation.set(0, 0, 1.2 * s);
  }

  resize(width, height) {
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.renderer.setSize(width, height, false);
      this.camera.aspect = width / Math.max(1, height);
      this.camera.updateProjectionMatrix();
    }
  }

  /** @param {import("./params.js").AvatarParams} p */
  render(p, tMs = performance.now()) {
    const vrm = this.vrm;
    const dt = this.lastT === null ? 1 / 60 : Math.min(0.1, Math.max(0, (tMs - this.lastT) / 1000));
    this.lastT = tMs;
    if (vrm) {
      this.applyPose(p);
      this.applyExpressions(p);
      vrm.update(dt);
    }
    this.renderer.render(this.scene, this.camera);
  }

  applyPose(p) {
    const vrm = this.vrm;
    const h = vrm.humanoid;
    if (!h) return;
    this._applyFace(p, h);
    this._applyBody(p, h);
  }

  /**
   * Upper body and fingers from the body section (normalized bones: every VRM takes them). The
   * rotations are in VRM 1.0 space; VRM 0.x normalized bones live in a space turned 180 degrees
   * about Y, where x and z flip sign. The neck's body rotation (which cancels the torso's) is put
   * before the face's share of the head turn. Without a body the arms go back to the rest pose.
   */
  _applyBody(p, h) {
    if (!p.hasBody) {
      if (this._bodyOn) {
        for (const name of BODY_DRIVEN_BONES) {
          const node = h.getNormalizedBoneNode(name);
          if (node && !this._faceNodes.has(node)) node.quaternion.identity();
        }
        this.restPose();
        this._bodyOn = false;
      }
      return;
    }
    this._bodyOn = true;
    applyBodyBones(h, p.body, { vrm0: this.isVrm0, q: this._q });
  }

  _applyFace(p, h) {
    const vrm = this.vrm;
    const r = p.rotation;
    let yaw = r[0];
    let pitch = r[1];
    let roll = r[2];
    // The params are as the camera sees the face; the avatar faces the camera (+z). VRM 0.x
    // normalized bones live in a space turned 180 degrees, where pitch and roll flip sign.
    if (this.isVrm0) {
      pitch = -pitch;
      roll = -roll;
    }
    yaw = THREE.MathUtils.clamp(yaw, -1.2, 1.2);
    pitch = THREE.MathUtils.clamp(pitch, -0.9, 0.9);
    roll = THREE.MathUtils.clamp(roll, -0.9, 0.9);
    for (const [node, w] of this._bones) {
      this._e.set(pitch * w, yaw * w, roll * w, "YXZ");
      node.quaternion.setFromEuler(this._e);
    }
    if (vrm.lookAt) {
      const g = gaze(p);
      vrm.lookAt.yaw = g.x * 18;
      vrm.lookAt.pitch = g.y * 12;
    }
  }

  applyExpressions(p) {
    const em = this.vrm.expressionManager;
    if (!em) return;
    const hasArkit = this.arkit.size >= 8;
    const w = presetWeights(p, this._weights, { perEye: this.perEyeBlink });
    for (const name of this.presets) {
      let v = w[name];
      if (v === undefined) v = 0;
      // ARKit-rigged models show the face through their custom expressions; keep the presets
      // for emotions only so nothing is applied twice.
      if (hasArkit && !EMOTIONS.has(name)) v = 0;
      em.setValue(name, v);
    }
    for (const [name, idx] of this.arkit) em.setValue(name, p.blendshapes[idx]);
    // Keyboard shortcuts hold expressions on top of tracking.
    const ov = p.expressions;
    if (ov) {
      for (const name in ov) {
        if (em.getExpression(name)) em.setValue(name, Math.max(em.getValue(name) || 0, ov[name]));
      }
    }
  }

  /** Expression names the loaded model has (for UI and tests). */
  expressionNames() {
    return [...this.presets, ...this.arkit.keys()];
  }

  disposeModel() {
    if (!this.vrm) return;
    this._springs = null;
    this.scene.remove(this.vrm.scene);
    VRMUtils.deepDispose(this.vrm.scene);
    this.vrm = null;
  }

  dispose() {
    this.disposeModel();
    this.renderer.dispose();
    this.renderer.forceContextLoss();
  }
}
