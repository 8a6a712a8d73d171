"""Structural checks of the VRM extension (0.x `VRM`, 1.0 `VRMC_vrm`): types and indices.

glb.py already refuses a glTF whose own index graph is broken; this does the same for the VRM
part, so a file is either usable as declared or refused with a `vrm_*` code and nothing stored.
Before, a humanoid bone pointing at a node that does not exist was silently dropped (and then
reported as a missing bone) and a `meta` that was not an object read as "no license": the file
was stored as if it were fine. Only the shape is checked here; what the values mean (enum
spellings, licenses) is vrm_meta's job, and unknown keys are allowed as the specifications allow.
Preconditions: `doc` passed glb.parse_glb (nodes, meshes, materials, images are well-formed).
"""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from .glb import GlbDocument, GlbError, _fail

OVERRIDES = ("none", "block", "blend")


class _Checker:
    def __init__(self, doc: GlbDocument, code: str, root: str) -> None:
        self.doc = doc
        self.code = code
        self.root = root
        self.nodes = len(doc.array("nodes"))
        self.meshes = doc.array("meshes")
        self.materials = len(doc.array("materials"))
        self.images = len(doc.array("images"))
        self.textures = len(doc.array("textures"))

    def fail(self, path: str, problem: str) -> GlbError:
        where = f"{self.root}.{path}"
        return _fail(
            self.code,
            _("The VRM data is invalid at %(path)s: it %(problem)s. Export the model again.") % {"path": where, "problem": problem},
            path=where,
            problem=problem,
        )

    def obj(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, "must be an object")
        return value

    def arr(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(path, "must be an array")
        return value

    def string(self, value: Any, path: str) -> None:
        if value is not None and not isinstance(value, str):
            raise self.fail(path, "must be a string")

    def boolean(self, value: Any, path: str) -> None:
        if value is not None and not isinstance(value, bool):
            raise self.fail(path, "must be true or false")

    def number(self, value: Any, path: str) -> None:
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            raise self.fail(path, "must be a number")

    def numbers(self, value: Any, path: str, length: int | None = None) -> None:
        if value is None:
            return
        items = self.arr(value, path)
        if length is not None and len(items) != length:
            raise self.fail(path, f"must hold {length} numbers")
        for i, item in enumerate(items):
            self.number(item, f"{path}[{i}]")
            if item is None:
                raise self.fail(f"{path}[{i}]", "must be a number")

    def index(self, value: Any, count: int, path: str, what: str, *, required: bool = True, none: int | None = None) -> int | None:
        """An index into a glTF array of `count` items; `none` is the file format's "no item" value."""
        if value is None:
            if required:
                raise self.fail(path, f"is required (a {what} index)")
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(path, f"must be a {what} index")
        if none is not None and value == none:
            return None
        if not 0 <= value < count:
            raise self.fail(path, f"points at {what} {value}, but the file has {count}")
        return value

    def targets_of_mesh(self, mesh: int) -> int:
        prims = self.meshes[mesh].get("primitives") or []
        return max((len(p.get("targets") or []) for p in prims if isinstance(p, dict)), default=0)

    def morph_index(self, value: Any, mesh: int | None, path: str) -> None:
        if mesh is None:
            self.index(value, 1 << 30, path, "morph target")
            return
        self.index(value, self.targets_of_mesh(mesh), path, "morph target")

    def strings_in(self, meta: dict[str, Any], keys: tuple[str, ...], path: str) -> None:
        for key in keys:
            self.string(meta.get(key), f"{path}.{key}")


def check_vrm0(doc: GlbDocument, vrm: dict[str, Any]) -> None:
    root = "extensions.VRM"
    meta = vrm.get("meta")
    if meta is not None:
        c = _Checker(doc, "vrm_meta_invalid", root)
        meta = c.obj(meta, "meta")
        c.strings_in(meta, (
            "title", "version", "author", "contactInformation", "reference", "allowedUserName",
            "violentUssageName", "violentUsageName", "sexualUssageName", "sexualUsageName", "commercialUssageName",
            "commercialUsageName", "otherPermissionUrl", "licenseName", "otherLicenseUrl",
        ), "meta")
        c.index(meta.get("texture"), c.textures, "meta.texture", "texture", required=False, none=-1)

    c = _Checker(doc, "vrm_humanoid_invalid", root)
    humanoid = c.obj(vrm.get("humanoid"), "humanoid")
    seen: set[str] = set()
    bones = humanoid.get("humanBones")
    for i, bone in enumerate(c.arr(bones, "humanoid.humanBones") if bones is not None else []):
        path = f"humanoid.humanBones[{i}]"
        bone = c.obj(bone, path)
        name = bone.get("bone")
        if not isinstance(name, str) or not name:
            raise c.fail(f"{path}.bone", "must be a bone name")
        if name in seen:
            raise c.fail(f"{path}.bone", f"repeats the bone {name[:64]}")
        seen.add(name)
        c.index(bone.get("node"), c.nodes, f"{path}.node", "node")

    master = vrm.get("blendShapeMaster")
    if master is not None:
        c = _Checker(doc, "vrm_expressions_invalid", root)
        master = c.obj(master, "blendShapeMaster")
        groups = master.get("blendShapeGroups")
        for i, group in enumerate(c.arr(groups, "blendShapeMaster.blendShapeGroups") if groups is not None else []):
            path = f"blendShapeMaster.blendShapeGroups[{i}]"
            group = c.obj(group, path)
            c.strings_in(group, ("name", "presetName"), path)
            c.boolean(group.get("isBinary"), f"{path}.isBinary")
            binds = group.get("binds")
            for j, bind in enumerate(c.arr(binds, f"{path}.binds") if binds is not None else []):
                bpath = f"{path}.binds[{j}]"
                bind = c.obj(bind, bpath)
                mesh = c.index(bind.get("mesh"), len(c.meshes), f"{bpath}.mesh", "mesh")
                c.morph_index(bind.get("index"), mesh, f"{bpath}.index")
                c.number(bind.get("weight"), f"{bpath}.weight")
            values = group.get("materialValues")
            for j, value in enumerate(c.arr(values, f"{path}.materialValues") if values is not None else []):
                vpath = f"{path}.materialValues[{j}]"
                value = c.obj(value, vpath)
                c.strings_in(value, ("materialName", "propertyName"), vpath)
                c.numbers(value.get("targetValue"), f"{vpath}.targetValue")

    first = vrm.get("firstPerson")
    if first is not None:
        c = _Checker(doc, "vrm_first_person_invalid", root)
        first = c.obj(first, "firstPerson")
        c.index(first.get("firstPersonBone"), c.nodes, "firstPerson.firstPersonBone", "node", required=False, none=-1)
        offset = first.get("firstPersonBoneOffset")
        if offset is not None:
            for axis, v in c.obj(offset, "firstPerson.firstPersonBoneOffset").items():
                c.number(v, f"firstPerson.firstPersonBoneOffset.{str(axis)[:8]}")
        annotations = first.get("meshAnnotations")
        for i, ann in enumerate(c.arr(annotations, "firstPerson.meshAnnotations") if annotations is not None else []):
            path = f"firstPerson.meshAnnotations[{i}]"
            ann = c.obj(ann, path)
            c.index(ann.get("mesh"), len(c.meshes), f"{path}.mesh", "mesh", none=-1)
            c.string(ann.get("firstPersonFlag"), f"{path}.firstPersonFlag")
        # VRM 0.x keeps the look-at settings inside firstPerson.
        c = _Checker(doc, "vrm_look_at_invalid", root)
        c.string(first.get("lookAtTypeName"), "firstPerson.lookAtTypeName")
        for key in ("lookAtHorizontalInner", "lookAtHorizontalOuter", "lookAtVerticalDown", "lookAtVerticalUp"):
            curve = first.get(key)
            if curve is None:
                continue
            curve = c.obj(curve, f"firstPerson.{key}")
            c.number(curve.get("xRange"), f"firstPerson.{key}.xRange")
            c.number(curve.get("yRange"), f"firstPerson.{key}.yRange")
            c.numbers(curve.get("curve"), f"firstPerson.{key}.curve")


def check_vrm1(doc: GlbDocument, vrmc: dict[str, Any]) -> None:
    root = "extensions.VRMC_vrm"
    c = _Checker(doc, "vrm_meta_invalid", root)
    meta = c.obj(vrmc.get("meta"), "meta")  # required by the VRM 1.0 specification
    c.strings_in(meta, (
        "name", "version", "copyrightInformation", "contactInformation", "thirdPartyLicenses", "licenseUrl",
        "avatarPermission", "commercialUsage", "creditNotation", "modification", "otherLicenseUrl",
    ), "meta")
    for key in ("authors", "references"):
        if meta.get(key) is not None:
            for i, item in enumerate(c.arr(meta[key], f"meta.{key}")):
                if not isinstance(item, str):
                    raise c.fail(f"meta.{key}[{i}]", "must be a string")
    for key in ("allowExcessivelyViolentUsage", "allowExcessivelySexualUsage", "allowPoliticalOrReligiousUsage",
                "allowAntisocialOrHateUsage", "allowRedistribution"):
        c.boolean(meta.get(key), f"meta.{key}")
    c.index(meta.get("thumbnailImage"), c.images, "meta.thumbnailImage", "image", required=False)

    c = _Checker(doc, "vrm_humanoid_invalid", root)
    humanoid = c.obj(vrmc.get("humanoid"), "humanoid")
    bones = humanoid.get("humanBones")
    for name, bone in (c.obj(bones, "humanoid.humanBones").items() if bones is not None else []):
        path = f"humanoid.humanBones.{str(name)[:64]}"
        c.index(c.obj(bone, path).get("node"), c.nodes, f"{path}.node", "node")

    expressions = vrmc.get("expressions")
    if expressions is not None:
        c = _Checker(doc, "vrm_expressions_invalid", root)
        expressions = c.obj(expressions, "expressions")
        for kind in ("preset", "custom"):
            group = expressions.get(kind)
            for name, body in (c.obj(group, f"expressions.{kind}").items() if group is not None else []):
                _check_expression1(c, c.obj(body, f"expressions.{kind}.{str(name)[:64]}"), f"expressions.{kind}.{str(name)[:64]}")

    look_at = vrmc.get("lookAt")
    if look_at is not None:
        c = _Checker(doc, "vrm_look_at_invalid", root)
        look_at = c.obj(look_at, "lookAt")
        c.numbers(look_at.get("offsetFromHeadBone"), "lookAt.offsetFromHeadBone", 3)
        kind = look_at.get("type")
        if kind is not None and kind not in ("bone", "expression"):
            raise c.fail("lookAt.type", "must be bone or expression")
        for key in ("rangeMapHorizontalInner", "rangeMapHorizontalOuter", "rangeMapVerticalDown", "rangeMapVerticalUp"):
            if look_at.get(key) is not None:
                range_map = c.obj(look_at[key], f"lookAt.{key}")
                c.number(range_map.get("inputMaxValue"), f"lookAt.{key}.inputMaxValue")
                c.number(range_map.get("outputScale"), f"lookAt.{key}.outputScale")

    first = vrmc.get("firstPerson")
    if first is not None:
        c = _Checker(doc, "vrm_first_person_invalid", root)
        first = c.obj(first, "firstPerson")
        annotations = first.get("meshAnnotations")
        for i, ann in enumerate(c.arr(annotations, "firstPerson.meshAnnotations") if annotations is not None else []):
            path = f"firstPerson.meshAnnotations[{i}]"
            ann = c.obj(ann, path)
            c.index(ann.get("node"), c.nodes, f"{path}.node", "node")
            c.string(ann.get("type"), f"{path}.type")


def _check_expression1(c: _Checker, body: dict[str, Any], path: str) -> None:
    c.boolean(body.get("isBinary"), f"{path}.isBinary")
    for key in ("overrideBlink", "overrideLookAt", "overrideMouth"):
        value = body.get(key)
        if value is not None and value not in OVERRIDES:
            raise c.fail(f"{path}.{key}", "must be none, block or blend")
    binds = body.get("morphTargetBinds")
    for j, bind in enumerate(c.arr(binds, f"{path}.morphTargetBinds") if binds is not None else []):
        bpath = f"{path}.morphTargetBinds[{j}]"
        bind = c.obj(bind, bpath)
        node = c.index(bind.get("node"), c.nodes, f"{bpath}.node", "node")
        mesh = c.doc.array("nodes")[node].get("mesh") if node is not None else None
        if not isinstance(mesh, int) or isinstance(mesh, bool) or not 0 <= mesh < len(c.meshes):
            raise c.fail(f"{bpath}.node", "must be a node with a mesh")
        c.morph_index(bind.get("index"), mesh, f"{bpath}.index")
        c.number(bind.get("weight"), f"{bpath}.weight")
    colors = body.get("materialColorBinds")
    for j, bind in enumerate(c.arr(colors, f"{path}.materialColorBinds") if colors is not None else []):
        bpath = f"{path}.materialColorBinds[{j}]"
        bind = c.obj(bind, bpath)
        c.index(bind.get("material"), c.materials, f"{bpath}.material", "material")
        c.string(bind.get("type"), f"{bpath}.type")
        c.numbers(bind.get("targetValue"), f"{bpath}.targetValue", 4)
    transforms = body.get("textureTransformBinds")
    for j, bind in enumerate(c.arr(transforms, f"{path}.textureTransformBinds") if transforms is not None else []):
        bpath = f"{path}.textureTransformBinds[{j}]"
        bind = c.obj(bind, bpath)
        c.index(bind.get("material"), c.materials, f"{bpath}.material", "material")
        c.numbers(bind.get("scale"), f"{bpath}.scale", 2)
        c.numbers(bind.get("offset"), f"{bpath}.offset", 2)
