#!/usr/bin/env node
// Validates a VRM/GLB file two ways and prints one JSON object on stdout:
//  1. the Khronos glTF validator (npm gltf-validator): error/warning/info counts and messages;
//  2. three's GLTFLoader.parse with @pixiv/three-vrm's VRMLoaderPlugin, as a browser would load it:
//     VRM version, humanoid bones, expressions (and their morph binds), animation clips.
// Usage: node scripts/validate_vrm.mjs FILE [--max-issues N]
// Exit code 0 when both ran (the verdict is in the JSON), 2 on bad usage or unreadable input.
import { readFileSync } from "node:fs";

// three's loaders touch a few browser globals; Node has none. `self` is used for URL/Blob and
// TextureLoader would build an <img>. We swap the texture loader for one that only checks that the
// embedded image bytes start like a PNG or JPEG, so nothing needs a DOM.
globalThis.self = globalThis;
if (typeof globalThis.window === "undefined") globalThis.window = globalThis;

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith("--"));
const maxIssuesArg = args.indexOf("--max-issues");
const maxIssues = maxIssuesArg >= 0 ? Number(args[maxIssuesArg + 1]) : 50;
if (!file) {
  process.stderr.write("usage: validate_vrm.mjs FILE\n");
  process.exit(2);
}
let bytes;
try {
  bytes = new Uint8Array(readFileSync(file));
} catch (err) {
  process.stderr.write(`cannot read ${file}: ${err.message}\n`);
  process.exit(2);
}

const result = { validator: null, three: null };

// 1. Khronos validator.
try {
  const validator = await import("gltf-validator");
  const report = await (validator.default || validator).validateBytes(bytes, { maxIssues, uri: "avatar.vrm" });
  const issues = report.issues;
  result.validator = {
    ok: issues.numErrors === 0 && issues.numWarnings === 0,
    errors: issues.numErrors,
    warnings: issues.numWarnings,
    infos: issues.numInfos,
    hints: issues.numHints,
    messages: issues.messages.map((m) => ({ code: m.code, severity: m.severity, pointer: m.pointer || null, message: m.message })),
    version: report.validatorVersion,
  };
} catch (err) {
  result.validator = { ok: false, crashed: String(err && err.message ? err.message : err) };
}

// 2. three + three-vrm.
try {
  const THREE = await import("three");
  const { GLTFLoader } = await import("three/examples/jsm/loaders/GLTFLoader.js");
  const { VRMLoaderPlugin } = await import("@pixiv/three-vrm");

  const imageErrors = [];
  class HeaderCheckingTextureLoader {
    constructor() { this.isImageBitmapLoader = false; }
    setCrossOrigin() { return this; }
    setWithCredentials() { return this; }
    setRequestHeader() { return this; }
    setPriority() { return this; }
    setCache() { return this; }
    setPath() { return this; }
    load(url, onLoad, _onProgress, onError) {
      fetchBlob(url).then((buf) => {
        const b = new Uint8Array(buf);
        const png = b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
        const jpeg = b[0] === 0xff && b[1] === 0xd8;
        if (!png && !jpeg) throw new Error("embedded image is neither PNG nor JPEG");
        const texture = new THREE.Texture({ width: 1, height: 1, data: b });
        onLoad(texture);
      }).catch((err) => { imageErrors.push(String(err.message || err)); onError && onError(err); });
    }
  }
  async function fetchBlob(url) {
    const { resolveObjectURL } = await import("node:buffer");
    const blob = resolveObjectURL(url);
    if (!blob) throw new Error(`cannot resolve ${url}`);
    return blob.arrayBuffer();
  }

  const loader = new GLTFLoader();
  loader.register((parser) => {
    parser.textureLoader = new HeaderCheckingTextureLoader();
    return { name: "node_texture_stub" };
  });
  loader.register((parser) => new VRMLoaderPlugin(parser));
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const gltf = await new Promise((resolve, reject) => loader.parse(buffer, "", resolve, reject));
  const vrm = gltf.userData.vrm;
  if (!vrm) {
    result.three = { ok: false, error: "three-vrm found no VRM in the file" };
  } else {
    const bones = Object.entries(vrm.humanoid.humanBones).filter(([, b]) => b && b.node).map(([name]) => name);
    const expressions = vrm.expressionManager ? vrm.expressionManager.expressions.map((e) => ({
      name: e.expressionName,
      binds: e._binds ? e._binds.length : null,
    })) : [];
    // Drive every expression once to prove the binds reach real morph targets.
    let boundMorphs = 0;
    if (vrm.expressionManager) {
      for (const e of vrm.expressionManager.expressions) {
        vrm.expressionManager.setValue(e.expressionName, 1.0);
        vrm.expressionManager.update();
        vrm.scene.traverse((o) => {
          if (o.morphTargetInfluences && o.morphTargetInfluences.some((x) => x > 0)) boundMorphs += 1;
        });
        vrm.expressionManager.setValue(e.expressionName, 0.0);
        vrm.expressionManager.update();
      }
    }
    let meshes = 0, skinned = 0, morphTargets = 0;
    vrm.scene.traverse((o) => {
      if (o.isMesh) meshes += 1;
      if (o.isSkinnedMesh) skinned += 1;
      if (o.morphTargetInfluences) morphTargets = Math.max(morphTargets, o.morphTargetInfluences.length);
    });
    // Spring bones: how many joints three-vrm built, and how far they move once simulated (gravity
    // and the head turning): zero when the file has no working springs.
    let springJoints = 0, springMoved = 0;
    if (vrm.springBoneManager) {
      const joints = [...vrm.springBoneManager.joints];
      springJoints = joints.length;
      vrm.scene.updateMatrixWorld(true);
      const before = joints.map((j) => j.bone.getWorldPosition(new THREE.Vector3()));
      const head = vrm.humanoid.getNormalizedBoneNode("head");
      for (let i = 0; i < 45; i += 1) {
        if (head) head.rotation.z = Math.sin(i / 6) * 0.5;
        vrm.update(1 / 30);
      }
      joints.forEach((j, i) => {
        springMoved = Math.max(springMoved, j.bone.getWorldPosition(new THREE.Vector3()).distanceTo(before[i]));
      });
      if (head) head.rotation.z = 0;
    }
    vrm.update(1 / 30);
    result.three = {
      springJoints,
      springMoved,
      ok: imageErrors.length === 0,
      metaVersion: vrm.meta ? vrm.meta.metaVersion : null,
      name: vrm.meta ? vrm.meta.name : null,
      humanBones: bones.sort(),
      expressions,
      expressionsDriven: boundMorphs,
      animations: gltf.animations.map((a) => ({ name: a.name, duration: a.duration, tracks: a.tracks.length })),
      meshes,
      skinnedMeshes: skinned,
      morphTargets,
      imageErrors,
    };
  }
} catch (err) {
  result.three = { ok: false, error: String(err && err.message ? err.message : err) };
}

process.stdout.write(JSON.stringify(result) + "\n");
