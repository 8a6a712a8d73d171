"""Write the avatar as a binary glTF (.vrm) with the VRMC_vrm 1.0 extension.

Written by hand (not through a generic exporter) because every detail matters to validators and to
three-vrm: 4-byte aligned buffer views with targets, min/max on positions and key times, unit
normals, weights that sum to exactly 1, skinned meshes as scene roots, identity rest rotations.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass

import numpy as np

from .anim import Clip
from .geometry import MeshData
from .hair import Hair
from .head import ARKIT_EXPRESSIONS, EXPRESSIONS, PRESET_EXPRESSIONS
from .rig import inverse_bind_matrices, local_translations
from .spec import BONE_NAMES, BONES, ChibiSpec

FLOAT, UBYTE, USHORT, UINT = 5126, 5121, 5123, 5125
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963
LICENSE_URL = "https://vrm.dev/licenses/1.0/"

# Expressions that close the eyes or shape them blend (fade) blinking while active.
_BLINK_BLEND = {"happy", "angry", "sad", "relaxed"}


@dataclass
class VrmMeta:
    name: str
    authors: list[str]
    version: str = "1.0"
    copyright: str = ""
    contact: str = ""
    avatar_permission: str = "onlyAuthor"  # onlyAuthor | onlySeparatelyLicensedPerson | everyone
    commercial_usage: str = "personalNonProfit"  # personalNonProfit | personalProfit | corporation
    credit_notation: str = "required"  # required | unnecessary
    allow_redistribution: bool = False
    modification: str = "prohibited"  # prohibited | allowModification | allowModificationRedistribution
    allow_violent: bool = False
    allow_sexual: bool = False
    allow_political: bool = False
    allow_antisocial: bool = False


class _Buffer:
    def __init__(self) -> None:
        self.data = bytearray()
        self.views: list[dict] = []
        self.accessors: list[dict] = []

    def view(self, raw: bytes, target: int | None = None) -> int:
        while len(self.data) % 4:
            self.data.append(0)
        entry = {"buffer": 0, "byteOffset": len(self.data), "byteLength": len(raw)}
        if target is not None:
            entry["target"] = target
        self.data.extend(raw)
        self.views.append(entry)
        return len(self.views) - 1

    def accessor(self, array: np.ndarray, kind: str, target: int | None = None, minmax: bool = False,
                 normalized: bool = False) -> int:
        array = np.ascontiguousarray(array)
        component = {np.dtype(np.float32): FLOAT, np.dtype(np.uint8): UBYTE, np.dtype(np.uint16): USHORT,
                     np.dtype(np.uint32): UINT}[array.dtype]
        view = self.view(array.tobytes(), target)
        count = array.size if kind == "SCALAR" else array.shape[0]
        entry: dict = {"bufferView": view, "componentType": component, "count": int(count), "type": kind}
        if normalized:
            entry["normalized"] = True
        if minmax:
            flat = array.reshape(int(count), -1)
            entry["min"] = [float(x) if component == FLOAT else int(x) for x in flat.min(axis=0)]
            entry["max"] = [float(x) if component == FLOAT else int(x) for x in flat.max(axis=0)]
        self.accessors.append(entry)
        return len(self.accessors) - 1


def _primitive(buf: _Buffer, mesh: MeshData, joints: np.ndarray, weights: np.ndarray,
               targets: list[np.ndarray] | None = None) -> dict:
    index_type = np.uint16 if mesh.vertex_count < 65536 else np.uint32
    prim: dict = {
        "attributes": {
            "POSITION": buf.accessor(mesh.positions.astype(np.float32), "VEC3", ARRAY_BUFFER, minmax=True),
            "NORMAL": buf.accessor(mesh.normals.astype(np.float32), "VEC3", ARRAY_BUFFER),
            "TEXCOORD_0": buf.accessor(mesh.uvs.astype(np.float32), "VEC2", ARRAY_BUFFER),
            "JOINTS_0": buf.accessor(joints.astype(np.uint8), "VEC4", ARRAY_BUFFER),
            "WEIGHTS_0": buf.accessor(weights.astype(np.float32), "VEC4", ARRAY_BUFFER),
        },
        "indices": buf.accessor(mesh.indices.astype(index_type).reshape(-1), "SCALAR", ELEMENT_ARRAY_BUFFER, minmax=True),
        "material": 0,
        "mode": 4,
    }
    if targets:
        prim["targets"] = [
            {"POSITION": buf.accessor(t.astype(np.float32), "VEC3", ARRAY_BUFFER, minmax=True)} for t in targets
        ]
    return prim


def _material(name: str, *, double_sided: bool) -> dict:
    """A VRM MToon material (cel shading, a thin outline) over the glTF PBR fallback."""
    return {
        "name": name,
        "pbrMetallicRoughness": {"baseColorTexture": {"index": 0}, "metallicFactor": 0.0, "roughnessFactor": 0.85},
        "doubleSided": double_sided,
        "extensions": {"VRMC_materials_mtoon": {
            "specVersion": "1.0",
            "transparentWithZWrite": False,
            "renderQueueOffsetNumber": 0,
            "shadeColorFactor": [0.78, 0.7, 0.76],
            "shadeMultiplyTexture": {"index": 0},
            "shadingShiftFactor": -0.05,
            "shadingToonyFactor": 0.92,
            "giEqualizationFactor": 0.9,
            "matcapFactor": [0.0, 0.0, 0.0],
            "parametricRimColorFactor": [0.0, 0.0, 0.0],
            "parametricRimFresnelPowerFactor": 5.0,
            "parametricRimLiftFactor": 0.0,
            "rimLightingMixFactor": 1.0,
            "outlineWidthMode": "worldCoordinates",
            "outlineWidthFactor": 0.0015,
            "outlineColorFactor": [0.22, 0.16, 0.18],
            "outlineLightingMixFactor": 1.0,
            "uvAnimationScrollXSpeedFactor": 0.0,
            "uvAnimationScrollYSpeedFactor": 0.0,
            "uvAnimationRotationSpeedFactor": 0.0,
        }},
    }


def spring_bones(hair: Hair, index: dict[str, int]) -> dict:
    """VRMC_springBone: one spring per lock (root to tip), the head as a sphere collider."""
    head = index["head"]
    joints, springs = [], []
    for k, chain in enumerate(hair.chains):
        joints.append([{"node": index[name], "hitRadius": 0.012, "stiffness": 0.9, "gravityPower": 0.35,
                        "gravityDir": [0.0, -1.0, 0.0], "dragForce": 0.45} for name in chain])
        springs.append({"name": f"hair{k}", "joints": joints[-1], "colliderGroups": [0]})
    return {
        "specVersion": "1.0",
        "colliders": [{"node": head, "shape": {"sphere": {"offset": [0.0, float(hair.collider[0]), 0.0], "radius": float(hair.collider[1])}}}],
        "colliderGroups": [{"name": "Head", "colliders": [0]}],
        "springs": springs,
    }


def _expression(node: int, index: int, name: str) -> dict:
    return {
        "morphTargetBinds": [{"node": node, "index": index, "weight": 1.0}],
        "isBinary": False,
        "overrideBlink": "blend" if name in _BLINK_BLEND else "none",
        "overrideLookAt": "none",
        "overrideMouth": "none",
    }


def build_vrm(
    *,
    spec: ChibiSpec,
    body: MeshData,
    body_skin: tuple[np.ndarray, np.ndarray],
    head: MeshData,
    head_skin: tuple[np.ndarray, np.ndarray],
    morphs: dict[str, np.ndarray],
    texture_jpeg: bytes,
    thumbnail: bytes,
    thumbnail_mime: str = "image/png",
    meta: VrmMeta,
    clips: list[Clip],
    hair: Hair | None = None,
) -> bytes:
    buf = _Buffer()
    # Nodes: the bones first (hips is a scene root), then the two skinned mesh nodes (roots too).
    nodes: list[dict] = []
    local = local_translations(spec)
    children: dict[str, list[int]] = {name: [] for name in BONE_NAMES}
    for name, parent in BONES:
        if parent:
            children[parent].append(BONE_NAMES.index(name))
    for name in BONE_NAMES:
        node: dict = {"name": name, "translation": [float(x) for x in local[name]]}
        if children[name]:
            node["children"] = children[name]
        nodes.append(node)
    # Hair joints (not humanoid bones): children of the head, one chain per lock.
    world = {name: spec.joints()[name] for name in BONE_NAMES}
    index = {name: i for i, name in enumerate(BONE_NAMES)}
    ibms = [inverse_bind_matrices(spec).reshape(len(BONE_NAMES), 16)]
    for name, parent, position in (hair.bones if hair else []):
        index[name], world[name] = len(nodes), np.asarray(position, dtype=np.float64)
        nodes.append({"name": name, "translation": [float(x) for x in world[name] - world[parent]]})
        nodes[index[parent]].setdefault("children", []).append(index[name])
        m = np.eye(4)
        m[:3, 3] = -world[name]
        ibms.append(m.T.reshape(1, 16).astype(np.float32))
    joint_count = len(nodes)
    body_node, head_node = len(nodes), len(nodes) + 1
    nodes.append({"name": "Body", "mesh": 0, "skin": 0})
    nodes.append({"name": "Face", "mesh": 1, "skin": 0})
    hair_node = None
    if hair is not None:
        hair_node = len(nodes)
        nodes.append({"name": "Hair", "mesh": 2, "skin": 0})

    ibm = buf.accessor(np.concatenate(ibms).astype(np.float32), "MAT4")
    meshes = [
        {"name": "Body", "primitives": [_primitive(buf, body, *body_skin)]},
        {
            "name": "Face",
            "primitives": [_primitive(buf, head, *head_skin, [morphs[name] for name in EXPRESSIONS])],
            "weights": [0.0] * len(EXPRESSIONS),
            "extras": {"targetNames": list(EXPRESSIONS)},
        },
    ]
    if hair is not None:
        hair_prim = _primitive(buf, hair.mesh, hair.joints, hair.weights)
        hair_prim["material"] = 1
        meshes.append({"name": "Hair", "primitives": [hair_prim]})
    texture_view = buf.view(texture_jpeg)
    thumbnail_view = buf.view(thumbnail)

    animations = []
    for clip in clips:
        samplers: list[dict] = []
        channels: list[dict] = []
        times = buf.accessor(clip.times.astype(np.float32), "SCALAR", minmax=True)
        for bone, rotations in clip.rotations.items():
            q = rotations / np.linalg.norm(rotations, axis=1, keepdims=True)
            out = buf.accessor(q.astype(np.float32), "VEC4")
            samplers.append({"input": times, "output": out, "interpolation": "LINEAR"})
            channels.append({"sampler": len(samplers) - 1, "target": {"node": BONE_NAMES.index(bone), "path": "rotation"}})
        if clip.weights is not None:
            out = buf.accessor(clip.weights.astype(np.float32).reshape(-1), "SCALAR")
            samplers.append({"input": times, "output": out, "interpolation": "LINEAR"})
            channels.append({"sampler": len(samplers) - 1, "target": {"node": head_node, "path": "weights"}})
        animations.append({"name": clip.name, "samplers": samplers, "channels": channels})

    vrm = {
        "specVersion": "1.0",
        "meta": {
            "name": meta.name,
            "version": meta.version,
            "authors": meta.authors,
            "copyrightInformation": meta.copyright,
            "contactInformation": meta.contact,
            "thumbnailImage": 1,
            "licenseUrl": LICENSE_URL,
            "avatarPermission": meta.avatar_permission,
            "allowExcessivelyViolentUsage": meta.allow_violent,
            "allowExcessivelySexualUsage": meta.allow_sexual,
            "commercialUsage": meta.commercial_usage,
            "allowPoliticalOrReligiousUsage": meta.allow_political,
            "allowAntisocialOrHateUsage": meta.allow_antisocial,
            "creditNotation": meta.credit_notation,
            "allowRedistribution": meta.allow_redistribution,
            "modification": meta.modification,
        },
        "humanoid": {"humanBones": {name: {"node": i} for i, name in enumerate(BONE_NAMES)}},
        "firstPerson": {"meshAnnotations": [
            {"node": body_node, "type": "auto"},
            {"node": head_node, "type": "thirdPersonOnly"},
        ] + ([{"node": hair_node, "type": "thirdPersonOnly"}] if hair_node is not None else [])},
        "lookAt": {
            "type": "expression",
            "offsetFromHeadBone": [0.0, float(spec.head_center[1] - spec.joints()["head"][1]), float(spec.head_radii[2])],
        },
        "expressions": {
            "preset": {name: _expression(head_node, EXPRESSIONS.index(name), name) for name in PRESET_EXPRESSIONS},
            # ARKit blendshape names as custom expressions: the call renderer drives them directly.
            "custom": {name: _expression(head_node, EXPRESSIONS.index(name), name) for name in ARKIT_EXPRESSIONS},
        },
    }
    gltf = {
        "asset": {"version": "2.0", "generator": "AvatarForge chibi generator"},
        "extensionsUsed": ["VRMC_vrm", "VRMC_materials_mtoon"] + (["VRMC_springBone"] if hair else []),
        "extensions": {"VRMC_vrm": vrm, **({"VRMC_springBone": spring_bones(hair, index)} if hair else {})},
        "scene": 0,
        "scenes": [{"name": "Scene", "nodes": [0, body_node, head_node] + ([hair_node] if hair_node is not None else [])}],
        "nodes": nodes,
        "meshes": meshes,
        "skins": [{"name": "Armature", "joints": list(range(joint_count)), "inverseBindMatrices": ibm, "skeleton": 0}],
        "materials": [_material("Chibi", double_sided=False), _material("Hair", double_sided=True)],
        "samplers": [{"magFilter": 9729, "minFilter": 9987, "wrapS": 33071, "wrapT": 33071}],
        "textures": [{"sampler": 0, "source": 0}],
        "images": [
            {"name": "atlas", "bufferView": texture_view, "mimeType": "image/jpeg"},
            {"name": "thumbnail", "bufferView": thumbnail_view, "mimeType": thumbnail_mime},
        ],
        "animations": animations,
        "accessors": buf.accessors,
        "bufferViews": buf.views,
        "buffers": [{"byteLength": 0}],
    }
    while len(buf.data) % 4:
        buf.data.append(0)
    gltf["buffers"][0]["byteLength"] = len(buf.data)
    return pack_glb(gltf, bytes(buf.data))


def pack_glb(gltf: dict, binary: bytes) -> bytes:
    text = json.dumps(gltf, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 4)
    binary += b"\0" * (-len(binary) % 4)
    total = 12 + 8 + len(text) + 8 + len(binary)
    return b"".join([
        struct.pack("<4sII", b"glTF", 2, total),
        struct.pack("<I4s", len(text), b"JSON"), text,
        struct.pack("<I4s", len(binary), b"BIN\0"), binary,
    ])


def read_glb_json(data: bytes) -> dict:
    """The JSON chunk of a GLB (for tests and checks)."""
    magic, version, _length = struct.unpack_from("<4sII", data, 0)
    if magic != b"glTF" or version != 2:
        raise ValueError("not a glTF 2.0 binary")
    chunk_len, chunk_type = struct.unpack_from("<I4s", data, 12)
    if chunk_type != b"JSON":
        raise ValueError("first chunk is not JSON")
    return json.loads(data[20 : 20 + chunk_len])
