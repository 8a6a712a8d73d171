"""A VRM extension with wrong types or indices pointing nowhere is refused with a vrm_* code
(characters.avatars.formats.vrm_structure), the same way a broken glTF index graph is; before,
such files were stored with a misleading warning."""
from __future__ import annotations

import io

import pytest

from characters.avatars.formats.glb import GlbError
from characters.avatars.services import inspect_avatar_file
from characters.models import Avatar
from tests.characters.avatars.support import GODETTE, ROBOT, SPHERE, media_files, modified, upload_file


def refused(path, change) -> GlbError:
    with pytest.raises(GlbError) as info:
        inspect_avatar_file(io.BytesIO(modified(path, change)))
    assert info.value.message and info.value.details["hint"]
    return info.value


def _vrm0(g):
    return g["extensions"]["VRM"]


def _vrm1(g):
    return g["extensions"]["VRMC_vrm"]


def _first_bone(g, **change):
    _vrm0(g)["humanoid"]["humanBones"][0].update(change)


CASES_0 = [
    # humanoid
    (SPHERE, lambda g: _first_bone(g, node=9999), "vrm_humanoid_invalid", "humanoid.humanBones[0].node", "points at node 9999, but the file has 31"),
    (SPHERE, lambda g: _first_bone(g, node=-1), "vrm_humanoid_invalid", "humanoid.humanBones[0].node", "points at node -1, but the file has 31"),
    (SPHERE, lambda g: _first_bone(g, node="2"), "vrm_humanoid_invalid", "humanoid.humanBones[0].node", "must be a node index"),
    (SPHERE, lambda g: _first_bone(g, node=True), "vrm_humanoid_invalid", "humanoid.humanBones[0].node", "must be a node index"),
    (SPHERE, lambda g: _first_bone(g, bone=7), "vrm_humanoid_invalid", "humanoid.humanBones[0].bone", "must be a bone name"),
    (SPHERE, lambda g: _vrm0(g)["humanoid"].update(humanBones={"hips": 2}), "vrm_humanoid_invalid", "humanoid.humanBones", "must be an array"),
    (SPHERE, lambda g: _vrm0(g)["humanoid"]["humanBones"].append("hips"), "vrm_humanoid_invalid", "humanoid.humanBones[22]", "must be an object"),
    (SPHERE, lambda g: _vrm0(g)["humanoid"]["humanBones"].append({"bone": "hips", "node": 3}), "vrm_humanoid_invalid",
     "humanoid.humanBones[22].bone", "repeats the bone hips"),
    # meta
    (SPHERE, lambda g: _vrm0(g).update(meta="CC0"), "vrm_meta_invalid", "meta", "must be an object"),
    (SPHERE, lambda g: _vrm0(g).update(meta=[{"licenseName": "CC0"}]), "vrm_meta_invalid", "meta", "must be an object"),
    (SPHERE, lambda g: _vrm0(g)["meta"].update(author={"not": "a string"}), "vrm_meta_invalid", "meta.author", "must be a string"),
    (SPHERE, lambda g: _vrm0(g)["meta"].update(licenseName=["CC0"]), "vrm_meta_invalid", "meta.licenseName", "must be a string"),
    (GODETTE, lambda g: _vrm0(g)["meta"].update(texture=99), "vrm_meta_invalid", "meta.texture", "points at texture 99, but the file has 5"),
    (GODETTE, lambda g: _vrm0(g)["meta"].update(texture="4"), "vrm_meta_invalid", "meta.texture", "must be a texture index"),
    # blendShapeMaster
    (GODETTE, lambda g: _vrm0(g)["blendShapeMaster"]["blendShapeGroups"][1]["binds"][0].update(mesh=7), "vrm_expressions_invalid",
     "blendShapeMaster.blendShapeGroups[1].binds[0].mesh", "points at mesh 7, but the file has 2"),
    (GODETTE, lambda g: _vrm0(g)["blendShapeMaster"]["blendShapeGroups"][1]["binds"][0].update(index=500), "vrm_expressions_invalid",
     "blendShapeMaster.blendShapeGroups[1].binds[0].index", "points at morph target 500, but the file has 15"),
    (GODETTE, lambda g: _vrm0(g)["blendShapeMaster"]["blendShapeGroups"][1]["binds"][0].update(weight="full"), "vrm_expressions_invalid",
     "blendShapeMaster.blendShapeGroups[1].binds[0].weight", "must be a number"),
    (GODETTE, lambda g: _vrm0(g)["blendShapeMaster"]["blendShapeGroups"][1].update(isBinary="yes"), "vrm_expressions_invalid",
     "blendShapeMaster.blendShapeGroups[1].isBinary", "must be true or false"),
    (GODETTE, lambda g: _vrm0(g)["blendShapeMaster"].update(blendShapeGroups={}), "vrm_expressions_invalid",
     "blendShapeMaster.blendShapeGroups", "must be an array"),
    # firstPerson and its look-at settings
    (GODETTE, lambda g: _vrm0(g)["firstPerson"].update(firstPersonBone=71), "vrm_first_person_invalid",
     "firstPerson.firstPersonBone", "points at node 71, but the file has 71"),
    (GODETTE, lambda g: _vrm0(g)["firstPerson"]["meshAnnotations"][0].update(mesh=2), "vrm_first_person_invalid",
     "firstPerson.meshAnnotations[0].mesh", "points at mesh 2, but the file has 2"),
    (GODETTE, lambda g: _vrm0(g)["firstPerson"]["lookAtHorizontalInner"].update(xRange="90"), "vrm_look_at_invalid",
     "firstPerson.lookAtHorizontalInner.xRange", "must be a number"),
]

CASES_1 = [
    (ROBOT, lambda g: _vrm1(g)["humanoid"]["humanBones"]["head"].update(node=9999), "vrm_humanoid_invalid",
     "humanoid.humanBones.head.node", "points at node 9999, but the file has 77"),
    (ROBOT, lambda g: _vrm1(g)["humanoid"]["humanBones"].update(head=5), "vrm_humanoid_invalid", "humanoid.humanBones.head", "must be an object"),
    (ROBOT, lambda g: _vrm1(g)["humanoid"]["humanBones"]["head"].pop("node"), "vrm_humanoid_invalid",
     "humanoid.humanBones.head.node", "is required (a node index)"),
    (ROBOT, lambda g: _vrm1(g).update(meta="VRM Public License"), "vrm_meta_invalid", "meta", "must be an object"),
    (ROBOT, lambda g: _vrm1(g).pop("meta"), "vrm_meta_invalid", "meta", "must be an object"),
    (ROBOT, lambda g: _vrm1(g)["meta"].update(authors="@saturday06"), "vrm_meta_invalid", "meta.authors", "must be an array"),
    (ROBOT, lambda g: _vrm1(g)["meta"].update(allowRedistribution="true"), "vrm_meta_invalid", "meta.allowRedistribution", "must be true or false"),
    (ROBOT, lambda g: _vrm1(g)["meta"].update(thumbnailImage=12), "vrm_meta_invalid", "meta.thumbnailImage", "points at image 12, but the file has 3"),
    (ROBOT, lambda g: _vrm1(g)["expressions"]["preset"]["aa"].update(isBinary=1), "vrm_expressions_invalid",
     "expressions.preset.aa.isBinary", "must be true or false"),
    (ROBOT, lambda g: _vrm1(g)["expressions"]["preset"]["aa"].update(overrideBlink="mute"), "vrm_expressions_invalid",
     "expressions.preset.aa.overrideBlink", "must be none, block or blend"),
    (ROBOT, lambda g: _vrm1(g)["expressions"]["preset"]["aa"].update(morphTargetBinds=[{"node": 500, "index": 0, "weight": 1}]),
     "vrm_expressions_invalid", "expressions.preset.aa.morphTargetBinds[0].node", "points at node 500, but the file has 77"),
    (ROBOT, lambda g: _vrm1(g)["expressions"]["preset"]["aa"].update(materialColorBinds=[{"material": 3, "type": "color", "targetValue": [1, 1, 1, 1]}]),
     "vrm_expressions_invalid", "expressions.preset.aa.materialColorBinds[0].material", "points at material 3, but the file has 3"),
    (ROBOT, lambda g: _vrm1(g)["expressions"]["preset"]["aa"].update(textureTransformBinds=[{"material": 0, "scale": [1]}]),
     "vrm_expressions_invalid", "expressions.preset.aa.textureTransformBinds[0].scale", "must hold 2 numbers"),
    (ROBOT, lambda g: _vrm1(g)["expressions"].update(preset=[]), "vrm_expressions_invalid", "expressions.preset", "must be an object"),
    (ROBOT, lambda g: _vrm1(g)["lookAt"].update(type="eyes"), "vrm_look_at_invalid", "lookAt.type", "must be bone or expression"),
    (ROBOT, lambda g: _vrm1(g)["lookAt"].update(offsetFromHeadBone=[0, 1]), "vrm_look_at_invalid", "lookAt.offsetFromHeadBone", "must hold 3 numbers"),
    (ROBOT, lambda g: _vrm1(g)["lookAt"]["rangeMapVerticalUp"].update(outputScale=None, inputMaxValue="90"), "vrm_look_at_invalid",
     "lookAt.rangeMapVerticalUp.inputMaxValue", "must be a number"),
    (ROBOT, lambda g: _vrm1(g)["firstPerson"].update(meshAnnotations=[{"node": 77, "type": "auto"}]), "vrm_first_person_invalid",
     "firstPerson.meshAnnotations[0].node", "points at node 77, but the file has 77"),
]


@pytest.mark.parametrize(("path", "change", "code", "where", "problem"), CASES_0 + CASES_1)
def test_structurally_invalid_vrm_extension_is_refused(path, change, code, where, problem):
    error = refused(path, change)
    root = "extensions.VRM" if path is not ROBOT else "extensions.VRMC_vrm"
    assert (error.code, error.details["path"], error.details["problem"]) == (code, f"{root}.{where}", problem)
    assert f"{root}.{where}" in error.message


@pytest.mark.parametrize("path", [GODETTE, ROBOT, SPHERE])
def test_the_real_files_pass(path):
    inspect_avatar_file(io.BytesIO(path.read_bytes()))


def test_minus_one_means_none_in_vrm0():
    """VRM 0.x writes -1 for "no thumbnail", "no first-person bone", "no mesh": not an error."""
    def change(g):
        _vrm0(g)["meta"]["texture"] = -1
        _vrm0(g)["firstPerson"]["firstPersonBone"] = -1
        _vrm0(g)["firstPerson"]["meshAnnotations"][0]["mesh"] = -1

    record, _, thumbnail = inspect_avatar_file(io.BytesIO(modified(GODETTE, change)))
    assert record["thumbnail"]["image"] is None and thumbnail is None


@pytest.mark.django_db
def test_refused_upload_stores_nothing(api_client, _media_root):
    data = modified(SPHERE, lambda g: _first_bone(g, node=9999))
    response = api_client.post("/api/avatars", {"file": upload_file("bad.vrm", data)}, format="multipart")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "vrm_humanoid_invalid"
    assert body["details"]["path"] == "extensions.VRM.humanoid.humanBones[0].node"
    assert not Avatar.objects.exists() and media_files(_media_root) == []
