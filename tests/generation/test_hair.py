"""Hair geometry: every style's cap and locks, their skinning, and the spring bones written for them."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from generation.chibi.anim import all_clips
from generation.chibi.atlas import build_atlas
from generation.chibi.geometry import build_body
from generation.chibi.hair import LOCKS, SEGMENTS, build_hair
from generation.chibi.head import FaceLandmarks, build_head, morph_targets
from generation.chibi.params import HAIR_STYLES
from generation.chibi.rig import skin_weights
from generation.chibi.spec import BONE_INDEX, BONE_NAMES, ChibiSpec
from generation.chibi.vrm import VrmMeta, build_vrm, read_glb_json


@pytest.mark.parametrize("style", HAIR_STYLES)
def test_each_style_has_a_cap_and_skinned_locks(style):
    spec = ChibiSpec()
    hair = build_hair(spec, style, True, first_joint=len(BONE_NAMES))
    assert len(hair.chains) == len(LOCKS[style]) and all(len(c) == SEGMENTS + 1 for c in hair.chains)
    assert np.all(hair.weights.sum(axis=1) == np.float32(1.0))
    used = set(hair.joints[hair.weights > 0].tolist())
    assert BONE_INDEX["head"] in used  # the cap
    assert max(used) < len(BONE_NAMES) + len(hair.bones)
    lock_joints = used - {BONE_INDEX["head"]}
    assert len(lock_joints) == SEGMENTS * len(hair.chains)  # every moving joint carries vertices
    # the cap covers the crown, above the head ellipsoid
    top = hair.mesh.positions[:, 1].max()
    assert top > spec.height
    # locks hang below their roots
    where = {name: position for name, _parent, position in hair.bones}
    for _name, parent, position in hair.bones:
        if parent != "head":
            assert position[1] < where[parent][1]


def test_long_hair_reaches_lower_than_short():
    spec = ChibiSpec()
    low = {s: build_hair(spec, s, True, len(BONE_NAMES)).mesh.positions[:, 1].min() for s in ("short", "bob", "long")}
    assert low["long"] < low["bob"] < low["short"]


def test_fringe_covers_the_forehead_only_when_asked():
    spec = ChibiSpec()
    centre, radii = spec.head_center, spec.head_radii

    def forehead_cover(fringe: bool) -> float:
        p = build_hair(spec, "bob", fringe, len(BONE_NAMES)).mesh.positions
        front = p[(p[:, 2] > centre[2] + 0.8 * radii[2]) & (np.abs(p[:, 0]) < 0.25 * radii[0])]
        return float(((front[:, 1] - centre[1]) / radii[1]).min())

    assert forehead_cover(True) < 0.35 < forehead_cover(False)


def test_vrm_gets_spring_bones_on_the_hair_chains():
    spec, lm = ChibiSpec(), FaceLandmarks()
    body = build_body(spec)
    head, first = build_head(spec, lm)
    hair = build_hair(spec, "long", True, len(BONE_NAMES))
    atlas = build_atlas(np.full((512, 512, 3), 200, np.uint8), {"skin": "#f0c8a0", "hair": "#503020", "top": "#e06030", "bottom": "#304060"})
    jpeg, thumb = io.BytesIO(), io.BytesIO()
    Image.fromarray(atlas).save(jpeg, "JPEG")
    Image.new("RGB", (64, 64)).save(thumb, "PNG")
    data = build_vrm(
        spec=spec, body=body, body_skin=skin_weights(body), head=head, head_skin=skin_weights(head),
        morphs=morph_targets(spec, lm, head, first), texture_jpeg=jpeg.getvalue(), thumbnail=thumb.getvalue(),
        meta=VrmMeta(name="Hair", authors=["Ann"]), clips=all_clips(), hair=hair,
    )
    gltf = read_glb_json(data)
    assert {"VRMC_springBone", "VRMC_materials_mtoon"} <= set(gltf["extensionsUsed"])
    springs = gltf["extensions"]["VRMC_springBone"]["springs"]
    assert len(springs) == len(hair.chains)
    nodes = gltf["nodes"]
    for spring in springs:
        chain = [j["node"] for j in spring["joints"]]
        assert nodes[chain[0]]["name"].startswith("hair") and chain[0] in nodes[BONE_NAMES.index("head")]["children"]
        for parent, child in zip(chain, chain[1:], strict=False):
            assert child in nodes[parent]["children"]  # a real parent -> child chain
    skin = gltf["skins"][0]
    assert len(skin["joints"]) == len(BONE_NAMES) + len(hair.bones)
    hair_mesh = next(m for m in gltf["meshes"] if m["name"] == "Hair")
    assert gltf["materials"][hair_mesh["primitives"][0]["material"]]["doubleSided"] is True
