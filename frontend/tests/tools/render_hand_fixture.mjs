// Renders the finger-tracking camera fixture in a browser page (scripts/render_hand_fixture.py
// bundles this file and drives it): a close-up of a hand built from known finger curls, the same
// landmark geometry the solver tests use (tests/fakes/skeleton.mjs handPoints), drawn by three.js
// as skin-coloured bones (capsules), knuckles (spheres), a palm and a forearm, palm to the camera,
// fingers up, one JPEG per frame. Nobody drew it: every pixel comes from the angles in POSES.
import * as THREE from "three";
import { ConvexGeometry } from "three/examples/jsm/geometries/ConvexGeometry.js";
import { deg, handPoints } from "../fakes/skeleton.mjs";

const c = (a, b, d) => [deg(a), deg(b), deg(d)];
// Per finger [curl1, curl2, curl3] (thumb, index, middle, ring, little), held `frames` frames each.
export const POSES = [
  { name: "open", frames: 15, curls: [c(5, 5, 5), c(0, 0, 0), c(0, 0, 0), c(0, 0, 0), c(0, 0, 0)] },
  { name: "half", frames: 15, curls: [c(20, 15, 10), c(35, 40, 25), c(35, 40, 25), c(35, 40, 25), c(35, 40, 25)] },
  { name: "point", frames: 15, curls: [c(30, 30, 20), c(0, 0, 0), c(70, 90, 40), c(70, 90, 40), c(70, 90, 40)] },
  { name: "fist", frames: 15, curls: [c(35, 35, 30), c(80, 95, 45), c(80, 95, 45), c(80, 95, 45), c(80, 95, 45)] },
];
const CHAINS = [[0, 1, 2, 3, 4], [0, 5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16], [0, 17, 18, 19, 20], [5, 9, 13, 17]];
// Turned a little away from the camera (the thumb side nearer), as a hand held up to a webcam
// usually is: straight on, the detector has to guess every curl from depth alone.
export const YAW = 0.5;
const RADIUS = [0.0105, 0.0095, 0.0088, 0.0082]; // proximal to distal

/** handPoints (camera axes, palm down, fingers out to the side) turned palm to camera, fingers up. */
export function shownPoints(curls, side = "left") {
  // Camera axes -> three's (y up, z towards the camera), then the turn: fingers (+x) up, palm
  // (-y) towards the camera (+z).
  return handPoints(side, curls).map(([x, y, z]) => {
    const a = [x, -y, -z];
    return new THREE.Vector3(side === "left" ? -a[2] : a[2], a[0] * (side === "left" ? 1 : -1), -a[1]);
  });
}

function capsule(a, b, r, material) {
  const len = a.distanceTo(b);
  const mesh = new THREE.Mesh(new THREE.CapsuleGeometry(r, Math.max(1e-4, len), 6, 14), material);
  mesh.position.copy(a).add(b).multiplyScalar(0.5);
  mesh.quaternion.setFromUnitVectors(new THREE.Vector3(0, 1, 0), b.clone().sub(a).normalize());
  return mesh;
}

function handMesh(pts, material) {
  const group = new THREE.Group();
  for (const chain of CHAINS) {
    for (let k = 0; k + 1 < chain.length; k++) {
      const i = chain[k + 1];
      const r = chain[0] === 5 ? 0.011 : RADIUS[Math.min(3, (i - 1) % 4)] * (i <= 4 ? 1.25 : 1);
      group.add(capsule(pts[chain[k]], pts[i], r, material));
    }
  }
  // The palm: the hull of wrist and finger bases, thickened along the palm's normal.
  const n = pts[5].clone().sub(pts[0]).cross(pts[17].clone().sub(pts[0])).normalize();
  const hull = [];
  for (const i of [0, 1, 2, 5, 9, 13, 17]) for (const s of [-1, 1]) hull.push(pts[i].clone().addScaledVector(n, s * 0.012));
  group.add(new THREE.Mesh(new ConvexGeometry(hull), material));
  // The forearm, down from the wrist.
  const elbow = pts[0].clone().add(pts[0].clone().sub(pts[9]).normalize().multiplyScalar(0.2));
  group.add(capsule(pts[0], elbow, 0.028, material));
  return group;
}

window.renderHandFixture = async (width, height) => {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  document.body.appendChild(canvas);
  const renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
  renderer.setSize(width, height, false);
  renderer.setClearColor(0x8d9aa6);
  const scene = new THREE.Scene();
  scene.add(new THREE.HemisphereLight(0xffffff, 0x60504a, 1.6));
  const sun = new THREE.DirectionalLight(0xffffff, 1.8);
  sun.position.set(0.3, 0.6, 1);
  scene.add(sun);
  const skin = new THREE.MeshStandardMaterial({ color: 0xd9a07e, roughness: 0.7 });
  const camera = new THREE.PerspectiveCamera(45, width / height, 0.01, 10);
  const frames = [];
  for (const pose of POSES) {
    const pts = shownPoints(pose.curls);
    const mesh = handMesh(pts, skin);
    scene.add(mesh);
    const centre = pts[0].clone().lerp(pts[9], 0.8);
    for (let i = 0; i < pose.frames; i++) {
      // A little life: the hand sways, as a held-up hand does.
      mesh.rotation.z = Math.sin(i / 7) * 0.05;
      mesh.rotation.y = YAW;
      camera.position.set(centre.x, centre.y, 0.42);
      camera.lookAt(centre);
      renderer.render(scene, camera);
      frames.push(canvas.toDataURL("image/jpeg", 0.85));
    }
    scene.remove(mesh);
  }
  return { frames, yaw: YAW, poses: POSES.map((p) => ({ name: p.name, frames: p.frames, curls: p.curls })) };
};
