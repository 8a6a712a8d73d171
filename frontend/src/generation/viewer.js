// The result in 3D: the shared loader of the avatar library's viewer (viewer/vrm_viewer.js), orbit
// controls, the clips baked into the file (idle, talk, wave) and expression buttons. The shared
// viewer animates with its own procedural clips; here the file's own clips are the point.
//
// The clips rotate the humanoid's raw bones, but three-vrm copies its normalized rig onto the raw
// bones on every update; since our rest rotations are identity, the same tracks are retargeted onto
// the normalized bones. Morph-weight tracks are turned into expression values, because the
// expression manager owns the morph targets.
import * as THREE from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";
import { fetchArrayBuffer, parseVrm } from "../viewer/vrm_viewer.js";

/** Retarget a clip's node tracks to the normalized bones; split off its morph weight track. */
export function retargetClip(clip, vrm) {
  const rawToBone = new Map();
  for (const [bone, entry] of Object.entries(vrm.humanoid.humanBones)) {
    if (entry && entry.node) rawToBone.set(entry.node.name, bone);
  }
  const tracks = [];
  let weights = null;
  for (const track of clip.tracks) {
    const dot = track.name.lastIndexOf(".");
    const node = track.name.slice(0, dot);
    const prop = track.name.slice(dot + 1);
    if (prop === "morphTargetInfluences") {
      weights = { track, node };
      continue;
    }
    const bone = rawToBone.get(node);
    const target = bone && vrm.humanoid.getNormalizedBoneNode(bone);
    if (!target) continue;
    const copy = track.clone();
    copy.name = `${target.name}.${prop}`;
    tracks.push(copy);
  }
  return { clip: new THREE.AnimationClip(clip.name, clip.duration, tracks), weights };
}

export class GenerationViewer {
  constructor(canvas) {
    this.canvas = canvas;
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: true, alpha: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.renderer.outputColorSpace = THREE.SRGBColorSpace;
    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(28, 1, 0.05, 20);
    this.camera.position.set(0.2, 0.75, 2.6);
    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.target.set(0, 0.55, 0);
    this.controls.enableDamping = true;
    this.controls.minDistance = 0.6;
    this.controls.maxDistance = 6;
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x8a80b0, 1.6));
    const sun = new THREE.DirectionalLight(0xffffff, 1.8);
    sun.position.set(-1, 2, 2.5);
    this.scene.add(sun);
    this.clock = new THREE.Clock();
    this.manual = new Map();
    this.clips = new Map();
    this.action = null;
    this.weightTrack = null;
    this.running = false;
    this.resize = this.resize.bind(this);
    new ResizeObserver(this.resize).observe(canvas);
    this.resize();
  }

  async load(url) {
    return this.loadBuffer(await fetchArrayBuffer(url));
  }

  /** Show the VRM in `buffer` (an ArrayBuffer), replacing the one shown (the creator's preview). */
  async loadBuffer(buffer) {
    const { gltf, vrm } = await parseVrm(buffer);
    if (!vrm) throw new Error("not a VRM");
    const playing = this.action ? this.action.getClip().name : "idle";
    if (this.vrm) {
      this.scene.remove(this.vrm.scene);
      this.vrm.scene.traverse((o) => {
        if (o.geometry) o.geometry.dispose();
        for (const m of [].concat(o.material || [])) m.dispose();
      });
      this.clips.clear();
      this.action = null;
      this.weightTrack = null;
    }
    this.vrm = vrm;
    this.scene.add(vrm.scene);
    this.mixer = new THREE.AnimationMixer(vrm.scene);
    for (const clip of gltf.animations) this.clips.set(clip.name, retargetClip(clip, vrm));
    this.start();
    if (this.clips.has(playing)) this.play(playing);
    return vrm;
  }

  expressionNames() {
    return this.vrm && this.vrm.expressionManager ? this.vrm.expressionManager.expressions.map((e) => e.expressionName) : [];
  }

  play(name) {
    const entry = this.clips.get(name);
    if (!entry || !this.mixer) return false;
    const next = this.mixer.clipAction(entry.clip);
    next.reset().setLoop(THREE.LoopRepeat, Infinity).play();
    if (this.action && this.action !== next) next.crossFadeFrom(this.action, 0.3, false);
    this.action = next;
    this.weightTrack = entry.weights ? { interpolant: entry.weights.track.createInterpolant(), names: null } : null;
    return true;
  }

  /** Hold an expression on (1) or off (0) on top of the clip. */
  setExpression(name, value) {
    this.manual.set(name, value);
  }

  applyExpressions() {
    const em = this.vrm.expressionManager;
    if (!em) return;
    const clipValues = new Map();
    if (this.weightTrack && this.action) {
      const face = this.vrm.scene.getObjectByName("Face");
      const dict = face && face.morphTargetDictionary;
      if (dict) {
        const values = this.weightTrack.interpolant.evaluate(this.action.time);
        for (const [name, index] of Object.entries(dict)) clipValues.set(name, values[index] || 0);
      }
    }
    for (const e of em.expressions) {
      const name = e.expressionName;
      em.setValue(name, Math.max(this.manual.get(name) || 0, clipValues.get(name) || 0));
    }
  }

  start() {
    if (this.running) return;
    this.running = true;
    const tick = () => {
      if (!this.running) return;
      requestAnimationFrame(tick);
      if (document.hidden) return;
      const dt = Math.min(this.clock.getDelta(), 0.1);
      if (this.mixer) this.mixer.update(dt);
      if (this.vrm) {
        this.applyExpressions();
        this.vrm.update(dt);
      }
      this.controls.update();
      this.renderer.render(this.scene, this.camera);
    };
    tick();
  }

  resize() {
    const width = this.canvas.clientWidth || 640;
    const height = this.canvas.clientHeight || width;
    this.renderer.setSize(width, height, false);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
  }

  dispose() {
    this.running = false;
    this.renderer.dispose();
  }
}

export function webglAvailable() {
  try {
    const canvas = document.createElement("canvas");
    return Boolean(canvas.getContext("webgl2") || canvas.getContext("webgl"));
  } catch {
    return false;
  }
}
