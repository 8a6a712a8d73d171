"""The chibi geometry, rig and writer, without Django: proportions, skinning, face rig, the file."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from generation.chibi.anim import all_clips
from generation.chibi.atlas import build_atlas
from generation.chibi.geometry import build_body
from generation.chibi.head import (
    ARKIT_EXPRESSIONS,
    EXPRESSIONS,
    IRIS_VERTS,
    LID_SETS,
    SHAPES,
    FaceLandmarks,
    build_head,
    morph_targets,
)
from generation.chibi.rig import pose_matrices, skin_positions, skin_weights
from generation.chibi.spec import BONE_NAMES, VRM_REQUIRED_BONES, ChibiSpec
from generation.chibi.vrm import VrmMeta, build_vrm, read_glb_json


@pytest.fixture(scope="module")
def model():
    spec = ChibiSpec()
    lm = FaceLandmarks()
    body = build_body(spec)
    head, first = build_head(spec, lm)
    return spec, lm, body, head, first


def test_proportions_follow_vrm_t_pose_rules(model):
    spec, _lm, body, head, _first = model
    points = np.concatenate([body.positions, head.positions])
    assert points[:, 1].min() == pytest.approx(0.0, abs=1e-5)  # feet on Y=0
    assert points[:, 1].max() == pytest.approx(spec.height, rel=0.02)
    assert spec.height / spec.head_height == pytest.approx(2.5)  # about 2.5 heads tall
    joints = spec.joints()
    for side, sign in (("left", 1), ("right", -1)):  # arms along X, the avatar's left at +X
        upper, lower, hand = joints[f"{side}UpperArm"], joints[f"{side}LowerArm"], joints[f"{side}Hand"]
        assert upper[1] == lower[1] == hand[1] and upper[2] == lower[2] == hand[2] == 0
        assert sign * hand[0] > sign * lower[0] > sign * upper[0] > 0
    # The face looks at +Z: the head's overlays (eyes, mouth) sit in front.
    assert head.positions[_first:, 2].min() > 0


def test_every_required_bone_plus_chest_and_neck():
    assert VRM_REQUIRED_BONES <= set(BONE_NAMES) and {"chest", "neck"} <= set(BONE_NAMES)


def test_weights_are_normalized_and_blend_at_joints(model):
    _spec, _lm, body, head, _first = model
    for mesh in (body, head):
        joints, weights = skin_weights(mesh)
        assert np.all(weights.sum(axis=1) == np.float32(1.0))  # exactly, in float32
        assert np.all((weights > 0) | (joints == 0))  # unused slots: joint 0, weight 0
        for row_j, row_w in zip(joints, weights, strict=True):
            used = row_j[row_w > 0]
            assert len(set(used.tolist())) == len(used)
    joints, weights = skin_weights(body)
    blended = (weights[:, 1] > 0).sum()
    assert blended > 50  # elbows, knees, spine: smooth, not rigid
    elbow = BONE_NAMES.index("leftLowerArm")
    assert ((joints == elbow) & (weights > 0.2) & (weights < 0.8)).any()


def test_skinning_moves_the_arm_with_its_bone(model):
    spec, _lm, body, _head, _first = model
    from generation.chibi.anim import quat

    joints, weights = skin_weights(body)
    down = pose_matrices(spec, {"leftUpperArm": quat((0, 0, 1), -90)})
    posed = skin_positions(body.positions, joints, weights, down)
    hand = [i for i, p in enumerate(body.parts) if p.name == "left_hand"][0]
    sel = body.vertex_part == hand
    shoulder = spec.joints()["leftUpperArm"]
    assert posed[sel, 1].max() < shoulder[1] - 0.1  # the hand hangs below the shoulder now
    assert abs(posed[sel, 0].mean() - shoulder[0]) < 0.05


def test_overlays_draw_nothing_at_rest_and_blinks_do_not_add_up(model):
    spec, lm, _body, head, first = model
    morphs = morph_targets(spec, lm, head, first)
    assert set(morphs) == set(EXPRESSIONS)
    rig_part = [p.name for p in head.parts].index("face_rig")
    in_rig = head.vertex_part == rig_part
    tris = head.indices[np.all(in_rig[head.indices], axis=1)]
    p = head.positions
    area = np.linalg.norm(np.cross(p[tris[:, 1]] - p[tris[:, 0]], p[tris[:, 2]] - p[tris[:, 0]]), axis=1)
    assert np.all(area == 0)  # collapsed: no fragment is drawn at rest
    for name in EXPRESSIONS:
        moved = np.abs(morphs[name]).max(axis=1) > 1e-5
        assert moved.any(), name
        assert not moved[:first].any(), name  # only the overlays move, the skin never does
    # blink, blinkLeft and blinkRight move disjoint vertices (separate lids): driving all three
    # closes each eye once, never twice.
    moved = {n: set(np.nonzero(np.abs(morphs[n]).max(axis=1) > 1e-6)[0]) for n in ("blink", "blinkLeft", "blinkRight")}
    assert not (moved["blink"] & moved["blinkLeft"]) and not (moved["blink"] & moved["blinkRight"])
    assert len(LID_SETS) == 4 and SHAPES["rest"].mouth is None


def test_gaze_moves_only_the_irises_and_arkit_shapes_have_their_own_targets(model):
    spec, lm, _body, head, first = model
    morphs = morph_targets(spec, lm, head, first)
    irises = head.vertex_part == [p.name for p in head.parts].index("irises")
    assert irises.sum() == 2 * IRIS_VERTS
    for name, axis, sign in (("lookLeft", 0, 1), ("lookRight", 0, -1), ("lookUp", 1, 1), ("lookDown", 1, -1)):
        moved = np.abs(morphs[name]).max(axis=1) > 1e-6
        assert np.array_equal(moved, irises), name  # the whole iris discs, nothing else
        assert sign * morphs[name][irises, axis].mean() > 0.003, name  # millimetres, the right way
    assert set(ARKIT_EXPRESSIONS) >= {"jawOpen", "mouthSmileLeft", "mouthSmileRight", "eyeBlinkLeft", "eyeBlinkRight",
                                      "browInnerUp", "mouthFunnel", "mouthPucker"}
    # a one-sided smile lifts that corner (the avatar's left is +X) above the other
    for name, sign in (("mouthSmileLeft", 1), ("mouthSmileRight", -1)):
        moved = np.abs(morphs[name]).max(axis=1) > 1e-6
        shaped = head.positions[moved] + morphs[name][moved]
        raised = shaped[sign * shaped[:, 0] > 0.005, 1].max()
        other = shaped[sign * shaped[:, 0] < -0.005, 1].max()
        assert raised > other + 0.001, name


def test_clips_have_increasing_times_and_unit_quaternions():
    for clip in all_clips():
        assert np.all(np.diff(clip.times) > 0) and clip.times[0] == 0
        for bone, q in clip.rotations.items():
            assert bone in BONE_NAMES and q.shape == (len(clip.times), 4)
            assert np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-6)
        assert clip.weights.shape == (len(clip.times), len(EXPRESSIONS))
    assert [c.name for c in all_clips()] == ["idle", "talk", "wave"]


def test_writer_produces_a_glb_with_vrm_extension(model):
    spec, lm, body, head, first = model
    atlas = build_atlas(np.full((512, 512, 3), 200, np.uint8), {"skin": "#f0c8a0", "hair": "#503020", "top": "#e06030", "bottom": "#304060"})
    jpeg = io.BytesIO()
    Image.fromarray(atlas).save(jpeg, "JPEG")
    thumb = io.BytesIO()
    Image.new("RGB", (64, 64)).save(thumb, "PNG")
    data = build_vrm(
        spec=spec, body=body, body_skin=skin_weights(body), head=head, head_skin=skin_weights(head),
        morphs=morph_targets(spec, lm, head, first), texture_jpeg=jpeg.getvalue(), thumbnail=thumb.getvalue(),
        meta=VrmMeta(name="Tést ✓", authors=["Ann"]), clips=all_clips(),
    )
    assert data[:4] == b"glTF" and len(data) % 4 == 0
    gltf = read_glb_json(data)
    assert gltf["extensionsUsed"] == ["VRMC_vrm", "VRMC_materials_mtoon"]  # no hair given: no springs
    assert gltf["extensions"]["VRMC_vrm"]["meta"]["name"] == "Tést ✓"
    assert all(v["byteOffset"] % 4 == 0 for v in gltf["bufferViews"])
    roots = gltf["scenes"][0]["nodes"]
    skinned = [i for i, n in enumerate(gltf["nodes"]) if "skin" in n]
    assert set(skinned) <= set(roots)  # skinned meshes are scene roots


def test_every_expression_changes_the_rendered_face():
    """Neutral against each expression, rendered: every VRM preset and ARKit shape shows."""
    from generation.chibi.face import draw_face, draw_iris
    from generation.chibi.params import AvatarParams, face_layout
    from generation.chibi.render import RenderMesh, render_front

    params = AvatarParams()
    spec, lm = ChibiSpec(), face_layout(params)
    head, first = build_head(spec, lm)
    morphs = morph_targets(spec, lm, head, first)
    atlas = build_atlas(draw_face(lm, skin=params.skin, hair=params.hair_color), {"skin": params.skin, "hair": params.hair_color,
                        "top": params.top, "bottom": params.bottom}, iris=draw_iris(params.eye_color))
    layer = np.zeros(head.vertex_count)
    layer[first:] = 0.012
    region = (-0.25, 0.25, spec.height - 0.45, spec.height + 0.02)

    def render(delta):
        mesh = RenderMesh(head.positions + delta, head.normals, head.uvs, head.indices, layer)
        return render_front([mesh], atlas, size=(256, 256), region=region, face_plane=(spec.head_center, spec.head_radii)).astype(int)

    neutral = render(0.0)
    for name in EXPRESSIONS:
        changed = (np.abs(render(morphs[name]) - neutral).sum(axis=2) > 30).sum()
        assert changed > 20, name  # pixels, not a rounding difference
