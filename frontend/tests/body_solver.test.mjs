// The body solver against landmark sets built from known angles (tests/fakes/skeleton.mjs):
// elbow and wrist angles within tolerance, elbows never bending backwards, fingers, mirroring,
// and hold-then-relax when an arm leaves the picture.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BodySolver, ELBOW_MAX, HOLD_MS, POSE, RELAX_MS, SIDES, handWorld, restBody, solveFingers, toAvatar,
} from "../src/tracking/body_solver.js";
import { BODY_BONES } from "../src/call/frame_codec.js";
import { armPoints, deg, handPoints, posePoints } from "./fakes/skeleton.mjs";

const TOL = deg(3);
const B = Object.fromEntries(BODY_BONES.map((n, i) => [n, i]));
const bone = (body, name) => Array.from(body.bones.subarray(4 * B[name], 4 * B[name] + 4));
const angleOf = (q) => 2 * Math.acos(Math.min(1, Math.abs(q[3])));
// Quaternion helpers written out here so the checks do not reuse the solver's own math.
const qmul = (a, b) => [
  a[3] * b[0] + a[0] * b[3] + a[1] * b[2] - a[2] * b[1],
  a[3] * b[1] - a[0] * b[2] + a[1] * b[3] + a[2] * b[0],
  a[3] * b[2] + a[0] * b[1] - a[1] * b[0] + a[2] * b[3],
  a[3] * b[3] - a[0] * b[0] - a[1] * b[1] - a[2] * b[2],
];
const qrot = (q, v) => {
  const p = qmul(qmul(q, [...v, 0]), [-q[0], -q[1], -q[2], q[3]]);
  return [p[0], p[1], p[2]];
};
const between = (a, b) => Math.acos(Math.max(-1, Math.min(1, (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]) / (Math.hypot(...a) * Math.hypot(...b)))));

const armsDown = (side) => armPoints(side, { elevation: deg(-80), forward: deg(5), flex: deg(10), bendDir: [0, 0, 1] });

/** The arm's world directions from the solved bones (forward kinematics from the T-pose). */
function armDirections(body, side) {
  const chest = qmul(bone(body, "spine"), bone(body, "chest"));
  const upperW = qmul(qmul(chest, bone(body, `${side}Shoulder`)), bone(body, `${side}UpperArm`));
  const lowerW = qmul(upperW, bone(body, `${side}LowerArm`));
  const rest = SIDES[side].restDir;
  return { upper: qrot(upperW, rest), lower: qrot(lowerW, rest), lowerW };
}

const KNOWN_POSES = [
  ["arm out to the side, elbow bent 90 degrees forward", { elevation: 0, forward: 0, flex: deg(90), bendDir: [0, 0, 1] }],
  ["hand raised beside the head (waving)", { elevation: deg(20), forward: deg(10), flex: deg(100), bendDir: [0, 1, 0] }],
  ["arm down, forearm forward", { elevation: deg(-85), forward: 0, flex: deg(80), bendDir: [0, 0, 1] }],
  ["arm forward, forearm up", { elevation: 0, forward: deg(80), flex: deg(70), bendDir: [0, 1, 0] }],
  ["arm nearly straight out front", { elevation: deg(10), forward: deg(60), flex: deg(15), bendDir: [0, 1, 0] }],
];

for (const [name, angles] of KNOWN_POSES) {
  for (const side of ["left", "right"]) {
    test(`${side} ${name}: elbow angle and arm directions within 3 degrees`, () => {
      const arm = armPoints(side, { ...angles, bendDir: orthogonalize(angles, side) });
      const other = armsDown(side === "left" ? "right" : "left");
      const pose = posePoints(side === "left" ? { left: arm, right: other } : { left: other, right: arm });
      const body = new BodySolver().solve({ pose, t: 0 });
      const elbow = angleOf(bone(body, `${side}LowerArm`));
      assert.ok(Math.abs(elbow - angles.flex) < TOL, `elbow ${elbow / deg(1)} vs ${angles.flex / deg(1)}`);
      const dirs = armDirections(body, side);
      assert.ok(between(dirs.upper, arm.u) < TOL, `upper arm off by ${between(dirs.upper, arm.u) / deg(1)} deg`);
      assert.ok(between(dirs.lower, arm.l) < TOL, `forearm off by ${between(dirs.lower, arm.l) / deg(1)} deg`);
    });
  }
}

// bendDir must be perpendicular to the upper arm: remove its component along it.
function orthogonalize(angles, side) {
  const sx = side === "left" ? 1 : -1;
  const u = [sx * Math.cos(angles.elevation) * Math.cos(angles.forward), Math.sin(angles.elevation), Math.cos(angles.elevation) * Math.sin(angles.forward)];
  const d = angles.bendDir;
  const k = d[0] * u[0] + d[1] * u[1] + d[2] * u[2];
  const v = [d[0] - k * u[0], d[1] - k * u[1], d[2] - k * u[2]];
  const n = Math.hypot(...v);
  return v.map((c) => c / n);
}

test("elbows never bend backwards: the forearm's rotation is a forward flexion of 0..150 degrees", () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 300; i++) {
    const side = i % 2 ? "left" : "right";
    const angles = { elevation: (rnd() - 0.5) * Math.PI, forward: (rnd() - 0.5) * Math.PI, flex: rnd() * Math.PI, bendDir: [rnd() - 0.5, rnd() - 0.5, rnd() - 0.5] };
    const arm = armPoints(side, { ...angles, bendDir: orthogonalize(angles, side) });
    const pose = posePoints(side === "left" ? { left: arm, right: armsDown("right") } : { left: armsDown("left"), right: arm });
    const q = bone(new BodySolver().solve({ pose, t: 0 }), `${side}LowerArm`);
    const hinge = SIDES[side].restHinge;
    const axisPart = q[0] * hinge[0] + q[1] * hinge[1] + q[2] * hinge[2];
    assert.ok(axisPart >= -1e-6, `bent backwards: ${q}`);
    assert.ok(Math.hypot(q[0], q[1], q[2]) - Math.abs(axisPart) < 1e-5, "the elbow turned about another axis");
    assert.ok(angleOf(q) <= ELBOW_MAX + 1e-6);
  }
});

test("a forearm bent against the elbow is straightened, not bent the other way", () => {
  // Upper arm straight out to the side, forearm bent 60 degrees backwards (away from the camera)
  // and twisted beyond the upper arm's twist limit: the elbow opens instead.
  const arm = armPoints("left", { elevation: 0, forward: 0, flex: deg(60), bendDir: [0, 0, -1] });
  const body = new BodySolver().solve({ pose: posePoints({ left: arm, right: armsDown("right") }), t: 0 });
  const dirs = armDirections(body, "left");
  // Backwards would be z = -sin(60 deg) = -0.87; the twist limit (95 degrees) leaves at most a few
  // degrees behind the shoulder line.
  assert.ok(dirs.lower[2] > -0.1, `the forearm points backwards: ${dirs.lower}`);
});

test("wrist flexion from the hand landmarks: 30 degrees down within 3 degrees", () => {
  const arm = armPoints("left", { elevation: 0, forward: 0, flex: 0, bendDir: [0, 0, 1] });
  const pose = posePoints({ left: arm, right: armsDown("right") });
  const curls = Array.from({ length: 5 }, () => [0.1, 0.1, 0.1]);
  const hands = [{ side: "left", world: handPoints("left", curls, { tiltDown: deg(30) }) }];
  const body = new BodySolver().solve({ pose, hands, t: 0 });
  const wrist = angleOf(bone(body, "leftHand"));
  assert.ok(Math.abs(wrist - deg(30)) < TOL, `wrist ${wrist / deg(1)}`);
  const dirs = armDirections(body, "left");
  const handDir = qrot(qmul(dirs.lowerW, bone(body, "leftHand")), [1, 0, 0]);
  assert.ok(handDir[1] < -0.4, "the fingers point down");
  assert.equal(body.left_hand, true);
  assert.equal(body.right_hand, false);
});

test("finger curls from known joint angles, both hands, within 3 degrees", () => {
  const curls = [[0.3, 0.4, 0.5], [0.2, 0.9, 0.6], [1.2, 1.4, 0.9], [0.0, 0.05, 0.1], [0.7, 0.3, 0.2]];
  for (const side of ["left", "right"]) {
    const pts = handPoints(side, curls).map((p) => toAvatar(p, false));
    const q = handWorld(pts[0], pts[5], pts[17], side);
    const out = solveFingers(pts, q, side);
    for (let f = 0; f < 5; f++) {
      for (let k = 0; k < 3; k++) {
        assert.ok(Math.abs(out[f * 4 + 1 + k] - curls[f][k]) < TOL, `${side} finger ${f} joint ${k}: ${out[f * 4 + 1 + k]} vs ${curls[f][k]}`);
      }
    }
  }
});

test("mirror: raising the right hand raises the avatar's left arm", () => {
  const raised = armPoints("right", { elevation: deg(60), forward: 0, flex: deg(20), bendDir: [0, 1, 0] });
  const pose = posePoints({ left: armsDown("left"), right: raised });
  const straight = new BodySolver({ mirror: false }).solve({ pose, t: 0 });
  const mirrored = new BodySolver({ mirror: true }).solve({ pose, t: 0 });
  assert.ok(armDirections(straight, "right").upper[1] > 0.7);
  assert.ok(armDirections(straight, "left").upper[1] < -0.7);
  assert.ok(armDirections(mirrored, "left").upper[1] > 0.7);
  assert.ok(armDirections(mirrored, "right").upper[1] < -0.7);
});

test("an arm that leaves the picture is held, then relaxes to the rest pose", () => {
  const raised = armPoints("left", { elevation: deg(60), forward: 0, flex: deg(40), bendDir: [0, 1, 0] });
  const solver = new BodySolver();
  const seen = solver.solve({ pose: posePoints({ left: raised, right: armsDown("right") }), t: 0 });
  const hidden = [POSE.leftElbow, POSE.leftWrist];
  const lost = () => posePoints({ left: raised, right: armsDown("right"), hidden });
  const held = solver.solve({ pose: lost(), t: HOLD_MS - 50 });
  assert.deepEqual(bone(held, "leftUpperArm"), bone(seen, "leftUpperArm"));
  const halfway = solver.solve({ pose: lost(), t: HOLD_MS + RELAX_MS / 2 });
  const rest = bone(restBody(), "leftUpperArm");
  const d = (a, b) => Math.abs(Math.abs(a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3]) - 1);
  assert.ok(d(bone(halfway, "leftUpperArm"), bone(seen, "leftUpperArm")) > 1e-4, "relaxing");
  const relaxed = solver.solve({ pose: lost(), t: HOLD_MS + RELAX_MS + 10 });
  assert.ok(d(bone(relaxed, "leftUpperArm"), rest) < 1e-6, "at rest");
  // The other arm was tracked all along and did not move.
  assert.deepEqual(bone(relaxed, "rightUpperArm"), bone(seen, "rightUpperArm"));
});

test("hand sensitivity scales the finger curls; a lost hand relaxes its fingers", () => {
  const arm = armPoints("left", { elevation: 0, forward: 0, flex: 0, bendDir: [0, 0, 1] });
  const pose = posePoints({ left: arm, right: armsDown("right") });
  const fist = Array.from({ length: 5 }, () => [1.0, 1.0, 0.8]);
  const hands = [{ side: "left", world: handPoints("left", fist) }];
  const one = new BodySolver().solve({ pose, hands, t: 0 });
  const half = new BodySolver({ handSensitivity: 0.5 }).solve({ pose, hands, t: 0 });
  assert.ok(Math.abs(half.fingers[4 * 2 + 1] - one.fingers[4 * 2 + 1] * 0.5) < 1 / 64);
  const solver = new BodySolver();
  solver.solve({ pose, hands, t: 0 });
  const later = solver.solve({ pose, hands: [], t: HOLD_MS + RELAX_MS + 10 });
  assert.deepEqual(Array.from(later.fingers.subarray(0, 20)), Array.from(restBody().fingers.subarray(0, 20)));
  assert.equal(later.left_hand, false);
});
