"""Outfits as geometry: each is its own shape over the same skeleton, valid under gltf-validator
(0 errors, 0 warnings) and loaded by three-vrm, and chosen through the parameters."""
from __future__ import annotations

import numpy as np
import pytest

from generation.chibi.assemble import assemble
from generation.chibi.geometry import OUTFITS, build_body
from generation.chibi.params import AvatarParams, ParamsError, clean
from generation.chibi.rig import skin_weights
from generation.chibi.spec import ChibiSpec
from generation.chibi.vrm import VrmMeta
from generation.stages.validate import check_report, run_node_check


def _parts(outfit: str) -> dict[str, str]:
    return {p.name: p.swatch for p in build_body(ChibiSpec(), outfit).parts}


def test_at_least_three_outfits_besides_the_default():
    assert OUTFITS[0] == "casual" and {"hoodie", "dress", "suit"} <= set(OUTFITS)


def test_each_outfit_is_a_different_shape():
    spec = ChibiSpec()
    bodies = {o: build_body(spec, o) for o in OUTFITS}
    parts = {o: _parts(o) for o in OUTFITS}
    assert "hood" in parts["hoodie"] and "pocket" in parts["hoodie"]
    assert "skirt" in parts["dress"] and {"jacket_hem", "shirt", "tie"} <= set(parts["suit"])
    # long sleeves: the forearm is cloth, not skin
    assert parts["hoodie"]["left_lower_arm"] == parts["suit"]["left_lower_arm"] == "top"
    assert parts["casual"]["left_lower_arm"] == parts["dress"]["left_lower_arm"] == "skin"
    # the dress's skirt flares wider than the hips, down towards the knees
    skirt = bodies["dress"].positions[bodies["dress"].vertex_part == list(parts["dress"]).index("skirt")]
    torso = bodies["casual"].positions[bodies["casual"].vertex_part == list(parts["casual"]).index("torso_lower")]
    assert np.ptp(skirt[:, 0]) > 1.3 * np.ptp(torso[:, 0]) and skirt[:, 1].min() < torso[:, 1].min()
    counts = {o: bodies[o].vertex_count for o in OUTFITS}
    assert len(set(counts.values())) == len(OUTFITS), counts


@pytest.mark.parametrize("outfit", OUTFITS)
def test_every_garment_vertex_is_skinned(outfit):
    joints, weights = skin_weights(build_body(ChibiSpec(), outfit))
    assert np.allclose(weights.sum(axis=1), 1.0)


@pytest.mark.parametrize("outfit", OUTFITS)
def test_each_outfit_passes_the_gltf_validator_and_loads_in_three_vrm(outfit, tmp_path):
    path = tmp_path / f"{outfit}.vrm"
    path.write_bytes(assemble(AvatarParams(outfit=outfit, hair_style="long"), VrmMeta(name=outfit, authors=["Ann"])))
    report = run_node_check(str(path), timeout=120)
    assert report["validator"]["errors"] == 0 and report["validator"]["warnings"] == 0, report["validator"]
    assert check_report(report) == []


def test_the_outfit_is_a_validated_parameter():
    assert clean(AvatarParams(), {"outfit": "suit"}).outfit == "suit"
    with pytest.raises(ParamsError) as info:
        clean(AvatarParams(), {"outfit": "armour"})
    assert info.value.field == "outfit"
