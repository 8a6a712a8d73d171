// The whole body path without a browser: landmarks built from a known pose (a raised left arm)
// -> body solver -> version 2 frame -> receiver -> the VRM renderer's bone setter on real VRM
// fixtures (Godette is VRM 0.x, the debug robot VRM 1.0). The hand bone must end up above the
// shoulder on the avatar's left, and at rest below it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { armPoints, deg, handPoints, posePoints } from "./fakes/skeleton.mjs";

import "./fakes/node_image.mjs";
const THREE = await import("three");
const { parseVrm } = await import("../src/viewer/vrm_viewer.js");
const { applyBodyBones } = await import("../src/avatar/vrm_renderer.js");
const { BodySolver, restBody } = await import("../src/tracking/body_solver.js");
const { encodeFrame } = await import("../src/call/frame_codec.js");
const { FrameReceiver } = await import("../src/call/receiver.js");
const { boneRotations, handPositions } = await import("../src/avatar/body_bones.js");

const fixtures = new URL("../../../shared/fixtures/vrm/", import.meta.url);
async function load(name) {
  const buf = readFileSync(new URL(name, fixtures));
  return (await parseVrm(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength))).vrm;
}

const down = (s) => armPoints(s, { elevation: deg(-80), forward: deg(5), flex: deg(10), bendDir: [0, 0, 1] });
const raisedLeft = armPoints("left", { elevation: deg(30), forward: deg(10), flex: deg(90), bendDir: [0, 1, 0] });

function received(pose, hands = []) {
  const body = new BodySolver().solve({ pose, hands, t: 0 });
  const r = new FrameReceiver({ interpolate: false });
  r.push(encodeFrame({ version: 2, seq: 1, body }).slice().buffer, 0);
  return r.sample(100).body;
}

function worldY(vrm, bone) {
  vrm.scene.updateMatrixWorld(true);
  const v = new THREE.Vector3();
  vrm.humanoid.getRawBoneNode(bone).getWorldPosition(v);
  return v;
}

for (const [file, vrm0] of [["Godette_vrm_v4.vrm", true], ["debug_robot.vrm", false]]) {
  test(`${file}: a raised left hand puts the model's left hand bone above its shoulder`, async () => {
    const vrm = await load(file);
    applyBodyBones(vrm.humanoid, received(posePoints({ left: down("left"), right: down("right") })), { vrm0 });
    vrm.update(0);
    const restHand = worldY(vrm, "leftHand");
    const shoulder = worldY(vrm, "leftUpperArm");
    assert.ok(restHand.y < shoulder.y - 0.2, `arm down: hand ${restHand.y} shoulder ${shoulder.y}`);

    const hands = [{ side: "left", world: handPoints("left", Array.from({ length: 5 }, () => [0.1, 0.1, 0.1])) }];
    applyBodyBones(vrm.humanoid, received(posePoints({ left: raisedLeft, right: down("right") }), hands), { vrm0 });
    vrm.update(0);
    const hand = worldY(vrm, "leftHand");
    assert.ok(hand.y > shoulder.y + 0.1, `raised: hand ${hand.y} shoulder ${shoulder.y}`);
    // The avatar faces +Z after loading (VRM 0.x is turned); its left is +X, on the viewer's right.
    assert.ok(hand.x > 0, `the left hand is on the model's left: x ${hand.x}`);
    const right = worldY(vrm, "rightHand");
    assert.ok(right.y < shoulder.y - 0.2, "the right arm stayed down");
  });
}

test("a fist curls every finger joint towards the palm", async () => {
  const vrm = await load("debug_robot.vrm");
  const arm = armPoints("left", { elevation: 0, forward: 0, flex: 0, bendDir: [0, 0, 1] });
  const fist = Array.from({ length: 5 }, () => [1.2, 1.3, 0.9]);
  const body = received(posePoints({ left: arm, right: down("right") }), [{ side: "left", world: handPoints("left", fist) }]);
  applyBodyBones(vrm.humanoid, body, { vrm0: false });
  vrm.update(0);
  const tip = worldY(vrm, "leftIndexDistal");
  const base = worldY(vrm, "leftIndexProximal");
  // T-pose arm, palm down: a curled index finger ends below its base.
  assert.ok(tip.y < base.y - 0.01, `index tip ${tip.y} base ${base.y}`);
  assert.equal(boneRotations(body).size, 41);
});

test("handPositions: raised only when the hand is up", () => {
  assert.equal(handPositions(restBody()).left.raised, false);
  const body = new BodySolver().solve({ pose: posePoints({ left: raisedLeft, right: down("right") }), t: 0 });
  const pos = handPositions(body);
  assert.equal(pos.left.raised, true);
  assert.equal(pos.right.raised, false);
  assert.ok(pos.left.x > 0.5 && pos.left.y > 0);
});
