// A reusable 3D avatar viewer: three + @pixiv/three-vrm, orbit by drag, expressions, idle motion.
//
//   import { createVrmViewer } from "../viewer/vrm_viewer.js";
//   const viewer = await createVrmViewer(canvas, { url: "/api/avatars/<id>/file" });
//   viewer.setExpression("happy", 1);     // any preset (aa, blink, happy, …) or custom name
//   viewer.playClip("wave");              // "idle" (default), "nod", "wave", or null to stop
//   viewer.dispose();
//
// Loads VRM 0.x, VRM 1.0 and plain glTF (shown static: no expressions). `url` is fetched with the
// page's cookies (same origin); `data` (an ArrayBuffer) skips the fetch. Nothing here touches the
// DOM beyond the canvas, so generation results, chat and calls can reuse it.
import * as THREE from "three";
import { GLTFLoader } from "three/examples/jsm/loaders/GLTFLoader.js";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";
import { VRMLoaderPlugin, VRMUtils } from "@pixiv/three-vrm";
import { applyBodyBones, handHeights } from "../avatar/vrm_renderer.js";
import { BODY_DRIVEN_BONES } from "../avatar/body_bones.js";

/** Fetch a URL into an ArrayBuffer, reporting progress (0..1) when the size is known. */
export async function fetchArrayBuffer(url, { onProgress, signal } = {}) {
  const response = await fetch(url, { credentials: "same-origin", signal });
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${url}`);
  const total = Number(response.headers.get("Content-Length")) || 0;
  if (!response.body || !total || !onProgress) return response.arrayBuffer();
  const reader = response.body.getReader();
  const out = new Uint8Array(total);
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (received + value.length > total) throw new Error("response longer than Content-Length");
    out.set(value, received);
    received += value.length;
    onProgress(received / total);
  }
  return out.buffer.slice(0, received);
}

/** Parse VRM/GLB bytes. Returns { gltf, vrm } (vrm is null for plain glTF). Works without a canvas. */
export async function parseVrm(arrayBuffer) {
  const loader = new GLTFLoader();
  loader.register((parser) => new VRMLoaderPlugin(parser));
  const gltf = await loader.parseAsync(arrayBuffer, "");
  const vrm = gltf.userData.vrm || null;
  if (vrm) {
    VRMUtils.removeUnnecessaryVertices(gltf.scene);
    if (VRMUtils.combineSkeletons) VRMUtils.combineSkeletons(gltf.scene);
    if (vrm.meta && vrm.meta.metaVersion === "0") VRMUtils.rotateVRM0(vrm);
    vrm.scene.traverse((obj) => { obj.frustumCulled = false; });
  }
  return { gltf, vrm };
}

/** Expression names a loaded VRM offers (presets use VRM 1.0 names for both versions). */
export function expressionNamesOf(vrm) {
  if (!vrm || !vrm.expressionManager) return [];
  return vrm.expressionManager.expressions.map((e) => e.expressionName);
}

/**
 * Point the camera at `object`: all of it, or with `upper` only its top part (the head and
 * shoulders, down to ~55 % of its height on a big-headed chibi: what a face-tracking preview
 * needs to show).
 */
function frame(camera, controls, object, { upper = false } = {}) {
  const box = new THREE.Box3().setFromObject(object);
  if (box.isEmpty()) return;
  if (upper) box.min.y = Math.max(box.min.y, box.max.y - 0.55 * (box.max.y - box.min.y));
  const size = box.getSize(new THREE.Vector3());
  const center = box.getCenter(new THREE.Vector3());
  const height = Math.max(size.y, size.x, 0.1);
  // Far enough for the height and, on a narrow canvas, for the width.
  const tanHalf = Math.tan((camera.fov * Math.PI) / 360);
  const fitWidth = (Math.max(size.x, 0.1) / 2) / (tanHalf * Math.min(1, camera.aspect || 1));
  const distance = Math.max((height / 2) / tanHalf, fitWidth) * 1.25;
  camera.near = Math.max(distance / 100, 0.01);
  camera.far = distance * 100;
  camera.position.set(center.x, center.y + height * 0.05, center.z + distance);
  camera.updateProjectionMatrix();
  controls.target.copy(center);
  controls.minDistance = distance * 0.2;
  controls.maxDistance = distance * 4;
  controls.update();
}

const CLIPS = {
  // Each clip poses normalized humanoid bones for time t (seconds); zSign mirrors z rotations for
  // VRM 0.x (see createVrmViewer). Bones the avatar lacks are skipped.
  idle(bone, t) {
    const breath = Math.sin(t * 1.6);
    bone("spine", (n) => { n.rotation.x = breath * 0.015; });
    bone("chest", (n) => { n.rotation.x = breath * 0.02; });
    bone("head", (n) => { n.rotation.y = Math.sin(t * 0.45) * 0.08; n.rotation.x = Math.sin(t * 0.7) * 0.03; });
  },
  nod(bone, t) {
    CLIPS.idle(bone, t);
    bone("head", (n) => { n.rotation.x = Math.max(0, Math.sin(t * 5)) * 0.25; });
  },
  wave(bone, t, zSign) {
    CLIPS.idle(bone, t);
    bone("rightUpperArm", (n) => { n.rotation.z = -1.2 * zSign; n.rotation.x = 0; });
    bone("rightLowerArm", (n) => { n.rotation.z = (-0.3 + Math.sin(t * 6) * 0.35) * zSign; });
  },
};

/**
 * Create a viewer on `canvas`. Resolves when the avatar is shown.
 * @returns {Promise<{vrm, scene, camera, renderer, expressionNames: string[],
 *   setExpression(name: string, weight: number): void, setExpressions(weights: object): void,
 *   resetExpressions(): void, playClip(name: string|null): void, setIdle(on: boolean): void,
 *   setFaceWeights(weights: object): void, dispose(): void}>}
 */
export async function createVrmViewer(canvas, { url, data, onProgress, idle = true, signal } = {}) {
  const renderer = new THREE.WebGLRenderer({ canvas, antialias: false, alpha: true, powerPreference: "low-power" });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 1.5));
  renderer.outputColorSpace = THREE.SRGBColorSpace;
  const scene = new THREE.Scene();
  const camera = new THREE.PerspectiveCamera(30, 1, 0.01, 100);
  const controls = new OrbitControls(camera, canvas);
  controls.enableDamping = true;
  controls.enablePan = false;
  scene.add(new THREE.HemisphereLight(0xffffff, 0x8a84a8, 1.6));
  const light = new THREE.DirectionalLight(0xffffff, 1.4);
  light.position.set(1, 2, 3);
  scene.add(light);

  let disposed = false;
  let vrm = null;
  let root = null;
  try {
    const bytes = data || (await fetchArrayBuffer(url, { onProgress, signal }));
    const parsed = await parseVrm(bytes);
    vrm = parsed.vrm;
    root = vrm ? vrm.scene : parsed.gltf.scene;
  } catch (error) {
    renderer.dispose();
    controls.dispose();
    throw error;
  }
  scene.add(root);
  const zSign = vrm && vrm.meta && vrm.meta.metaVersion === "0" ? -1 : 1;
  const relaxArms = () => {
    if (!vrm || !vrm.humanoid) return;
    // Relax the T-pose: arms down a little so the preview looks natural. rotateVRM0 turned
    // VRM 0.x models around, which mirrors the visual direction of a z rotation.
    const l = vrm.humanoid.getNormalizedBoneNode("leftUpperArm");
    const r = vrm.humanoid.getNormalizedBoneNode("rightUpperArm");
    if (l) l.rotation.z = -1.15 * zSign;
    if (r) r.rotation.z = 1.15 * zSign;
  };
  relaxArms();
  if (vrm) vrm.update(0);
  frame(camera, controls, root);

  const resize = () => {
    const width = canvas.clientWidth || canvas.width;
    const height = canvas.clientHeight || canvas.height;
    renderer.setSize(width, height, false);
    camera.aspect = width / height;
    camera.updateProjectionMatrix();
  };
  resize();
  const observer = typeof ResizeObserver !== "undefined" ? new ResizeObserver(resize) : null;
  if (observer) observer.observe(canvas);

  const names = expressionNamesOf(vrm);
  const manual = new Map(); // expressions set by the page: name -> weight
  let clip = idle ? "idle" : null;
  let blinkAt = 2;
  const timer = new THREE.Timer(); // THREE.Clock is deprecated since r183 (and warns once per page)
  let raf = 0;
  let body = null; // a tracked body section (frame v2 shape) posing the bones, or null
  let head = null; // the last tracked head rotation
  const bodyQ = new THREE.Quaternion();

  const bone = (name, fn) => {
    const node = vrm && vrm.humanoid ? vrm.humanoid.getNormalizedBoneNode(name) : null;
    if (node) fn(node);
  };

  const applyHead = (rotation) => {
    const neck = vrm && vrm.humanoid ? vrm.humanoid.getNormalizedBoneNode("neck") : null;
    const headNode = vrm && vrm.humanoid ? vrm.humanoid.getNormalizedBoneNode("head") : null;
    const clampTo = (v, m) => Math.max(-m, Math.min(m, Number(v) || 0));
    // VRM 0.x normalized bones live in a space turned 180 degrees: pitch and roll flip sign.
    const yaw = clampTo(rotation[0], 1.2);
    const pitch = clampTo(rotation[1], 0.9) * zSign;
    const roll = clampTo(rotation[2], 0.9) * zSign;
    for (const [node, w] of neck ? [[neck, 0.4], [headNode, 0.6]] : [[headNode, 1]]) {
      if (node) node.quaternion.setFromEuler(new THREE.Euler(pitch * w, yaw * w, roll * w, "YXZ"));
    }
  };

  const tick = (now) => {
    if (disposed) return;
    raf = requestAnimationFrame(tick);
    timer.update(now);
    const delta = Math.min(timer.getDelta(), 0.1);
    const t = timer.getElapsed();
    if (vrm) {
      if (clip && CLIPS[clip]) CLIPS[clip](bone, t, zSign);
      if (body && vrm.humanoid) {
        // The body's neck goes before the face's share of the head turn, so the head turn is
        // set again first (else the neck would add up frame after frame).
        if (head) applyHead(head);
        applyBodyBones(vrm.humanoid, body, { vrm0: zSign < 0, q: bodyQ });
      }
      if (vrm.expressionManager) {
        for (const name of names) vrm.expressionManager.setValue(name, manual.get(name) || 0);
        if (clip && !manual.has("blink") && names.includes("blink")) {
          // A natural blink every 2.5–5 s, 150 ms long.
          if (t > blinkAt + 0.15) blinkAt = t + 2.5 + Math.random() * 2.5;
          const phase = t - blinkAt;
          if (phase >= 0) vrm.expressionManager.setValue("blink", Math.sin((phase / 0.15) * Math.PI));
        }
      }
      vrm.update(delta);
    }
    controls.update();
    renderer.render(scene, camera);
  };
  tick();

  return {
    vrm,
    scene,
    camera,
    renderer,
    expressionNames: names,
    setExpression(name, weight) {
      if (!names.includes(name)) return;
      const w = Math.max(0, Math.min(1, Number(weight) || 0));
      if (w > 0) manual.set(name, w); else manual.delete(name);
    },
    setExpressions(weights) {
      for (const [name, weight] of Object.entries(weights || {})) this.setExpression(name, weight);
    },
    /** Replace all page-set expressions at once (e.g. from face tracking each frame). */
    setFaceWeights(weights) {
      manual.clear();
      this.setExpressions(weights);
    },
    resetExpressions() { manual.clear(); },
    playClip(name) { clip = name && CLIPS[name] ? name : null; },
    /**
     * Turn the head as a tracked face is turned: [yaw, pitch, roll] in radians as the camera sees
     * the face (tracking/pose.js), shared between neck and head. Stop the clip first (it owns the
     * head bone while it plays).
     */
    setHeadRotation(rotation) {
      head = Array.from(rotation);
      applyHead(head);
    },
    /**
     * Pose spine, chest, shoulders, arms, hands and fingers from a tracked body section
     * (frame v2, avatar/body_bones.js), applied every frame from now on; null puts them back at
     * rest (the relaxed arms). Stop the clip first (the idle clip sways spine and chest).
     */
    setBody(section) {
      body = section || null;
      if (body || !vrm || !vrm.humanoid) return;
      for (const name of BODY_DRIVEN_BONES) {
        const node = vrm.humanoid.getNormalizedBoneNode(name);
        if (node && name !== "neck") node.quaternion.identity();
      }
      relaxArms();
    },
    /** How far each hand bone is above its shoulder on the model (metres, world y), or null. */
    handHeights() {
      return handHeights(vrm);
    },
    setIdle(on) { clip = on ? "idle" : null; },
    /** Frame the whole avatar, or (upper) its head and shoulders, where a tracked face shows. */
    setFraming(upper) {
      frame(camera, controls, root, { upper });
    },
    dispose() {
      disposed = true;
      cancelAnimationFrame(raf);
      if (observer) observer.disconnect();
      controls.dispose();
      if (root) {
        scene.remove(root);
        VRMUtils.deepDispose(root);
      }
      renderer.dispose();
    },
  };
}

export const CLIP_NAMES = Object.keys(CLIPS);
