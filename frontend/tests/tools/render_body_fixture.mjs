// Renders the body-tracking camera fixture in a browser page (scripts/render_body_fixture.py
// bundles this file and drives it): the Godette VRM (CC-BY 3.0, ../shared/fixtures/vrm) posed by
// known joint angles, framed like a webcam sees a person, one JPEG per frame. The arm angles are
// turned into bone rotations by building landmarks from the angles (tests/fakes/skeleton.mjs) and
// solving them, the same path the tests check against those angles.
import * as THREE from "three";
import { GLTFLoader } from "three/examples/jsm/loaders/GLTFLoader.js";
import { VRMLoaderPlugin, VRMUtils } from "@pixiv/three-vrm";
import { armAngles } from "../../src/avatar/body_bones.js";
import { applyBodyBones } from "../../src/avatar/vrm_renderer.js";
import { BodySolver } from "../../src/tracking/body_solver.js";
import { armPoints, deg, posePoints } from "../fakes/skeleton.mjs";

export const PHASES = [
  { name: "arms_down", frames: 60, left: { elevation: deg(-75), forward: deg(5), flex: deg(15) } },
  { name: "left_hand_raised", frames: 90, left: { elevation: deg(35), forward: deg(10), flex: deg(95) } },
];
const HEAD_SCALE = 0.45;
const RIGHT = { elevation: deg(-75), forward: deg(5), flex: deg(15) };

function bodyFor(phase) {
  const left = armPoints("left", { ...phase.left, bendDir: phase.left.flex > deg(45) ? [0, 1, 0] : [0, 0, 1] });
  const right = armPoints("right", { ...RIGHT, bendDir: [0, 0, 1] });
  return new BodySolver().solve({ pose: posePoints({ left, right }), t: 0 });
}

window.renderFixture = async (vrmUrl, width, height) => {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  document.body.appendChild(canvas);
  const renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
  renderer.setSize(width, height, false);
  renderer.setClearColor(0xd8d2c8);
  const scene = new THREE.Scene();
  scene.add(new THREE.HemisphereLight(0xffffff, 0x555555, 2.2));
  const sun = new THREE.DirectionalLight(0xffffff, 1.6);
  sun.position.set(0.5, 1.5, 2);
  scene.add(sun);
  const loader = new GLTFLoader();
  loader.register((parser) => new VRMLoaderPlugin(parser));
  const gltf = await loader.loadAsync(vrmUrl);
  const vrm = gltf.userData.vrm;
  VRMUtils.rotateVRM0(vrm);
  scene.add(vrm.scene);
  const h = vrm.humanoid;
  // Godette is chibi (the head as tall as the body): the pose detector, trained on people, does
  // not find her arms. A head at 0.45 of its size gives human proportions.
  h.getRawBoneNode("head").scale.setScalar(HEAD_SCALE);
  vrm.update(0);
  vrm.scene.updateMatrixWorld(true);
  const head = new THREE.Vector3();
  const hips = new THREE.Vector3();
  h.getRawBoneNode("head").getWorldPosition(head);
  h.getRawBoneNode("hips").getWorldPosition(hips);
  // A webcam's view: from the hips to a raised hand above the head, a little from above.
  const feet = new THREE.Vector3();
  h.getRawBoneNode("leftFoot").getWorldPosition(feet);
  const span = (head.y - feet.y) * 1.45; // the whole figure, with room for a raised hand
  const camera = new THREE.PerspectiveCamera(40, width / height, 0.01, 50);
  const centreY = feet.y + (head.y - feet.y) * 0.62;
  const dist = span / 2 / Math.tan(THREE.MathUtils.degToRad(20));
  camera.position.set(0, centreY + 0.05, dist);
  camera.lookAt(0, centreY, 0);
  const frames = [];
  for (const phase of PHASES) {
    applyBodyBones(h, bodyFor(phase), { vrm0: true });
    for (let i = 0; i < phase.frames; i++) {
      // A little life, so the tracker sees a moving person: the head sways.
      const neck = h.getNormalizedBoneNode("neck");
      if (neck) neck.rotation.set(0, Math.sin(i / 9) * 0.08, 0);
      vrm.update(1 / 30);
      renderer.render(scene, camera);
      frames.push(canvas.toDataURL("image/jpeg", 0.8));
    }
  }
  // `bones`: the angles of the bones as rendered (armAngles), what a solver should find again.
  const phases = PHASES.map((p) => ({ name: p.name, frames: p.frames, left: p.left, right: RIGHT, bones: armAngles(bodyFor(p)) }));
  return { frames, phases };
};
