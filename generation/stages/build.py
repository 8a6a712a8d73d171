"""Stages 5-7: build the chibi body, rig it, export the VRM.

body    artifacts: files["mesh.npz"] (body_* and head_* arrays), files["atlas.jpg"] (the texture);
        data {"spec", "parts": {"body": [...], "head": [...]}, "first_overlay", "vertices", "triangles"}
rig     artifacts: files["rig.npz"] (body/head JOINTS_0 and WEIGHTS_0, one position delta per expression);
        data {"bones", "expressions"}
export  artifacts: files["avatar.vrm"], files["thumbnail.jpg"]; data {"bytes", "sha256", "clips", ...}
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import asdict

import numpy as np
from PIL import Image

from ..chibi.anim import all_clips, quat, quat_mul
from ..chibi.atlas import build_atlas
from ..chibi.face import draw_face, draw_iris
from ..chibi.geometry import GARMENT_LAYERS, MeshData, Part, build_body
from ..chibi.hair import Hair, build_hair
from ..chibi.head import EXPRESSIONS, FaceLandmarks, build_head, morph_targets
from ..chibi.params import AvatarParams, clean, face_layout, from_reading
from ..chibi.render import RenderMesh, render_front
from ..chibi.rig import pose_matrices, skin_positions, skin_weights
from ..chibi.spec import BONE_NAMES, BONES, ChibiSpec
from ..chibi.vrm import VrmMeta, build_vrm
from ..imaging import encode_jpeg
from .base import Stage, StageContext, StageOutput
from .detect import decode

DEFAULT_HEADS = 2.5
DEFAULT_BUILD = "regular"


def spec_from(options: dict) -> ChibiSpec:
    return ChibiSpec(heads=float(options.get("heads") or DEFAULT_HEADS), build=options.get("build") or DEFAULT_BUILD)


def avatar_params(ctx: StageContext) -> AvatarParams:
    """What the photo said (palette stage), the job's options, then the user's edits (options
    "params", set by a re-export), in that order of precedence from last to first."""
    spec = spec_from(ctx.options)
    palette = ctx.data("palette")
    params = from_reading(palette.get("reading") or {}, palette["palette"], heads=spec.heads, build=spec.build)
    edits = ctx.options.get("params") or {}
    return clean(params, edits) if edits else params


def _npz(**arrays: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def _load_npz(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def _parts_json(parts: list[Part]) -> list[dict]:
    return [asdict(p) for p in parts]


def _parts(data: list[dict]) -> list[Part]:
    return [Part(**p) for p in data]


def _head_layers(head: MeshData) -> np.ndarray:
    """Painter's bias of the head (metres): skin 0, irises above it, lids/mouth/brows above those;
    more than the curvature's depth change across an eye (about 5 mm), see RenderMesh.layer."""
    layer = np.zeros(head.vertex_count)
    for index, part in enumerate(head.parts):
        if part.name in ("face_rig", "irises"):
            layer[head.vertex_part == index] = 0.012 if part.name == "face_rig" else 0.006
    return layer


def _body_layers(body: MeshData) -> np.ndarray:
    layer = np.zeros(body.vertex_count)
    for index, part in enumerate(body.parts):
        layer[body.vertex_part == index] = GARMENT_LAYERS.get(part.name, 0.0)
    return layer


def _render_meshes(body: MeshData, head: MeshData, body_pos=None, head_pos=None, hair: Hair | None = None) -> list[RenderMesh]:
    meshes = [
        RenderMesh(body.positions if body_pos is None else body_pos, body.normals, body.uvs, body.indices, _body_layers(body)),
        RenderMesh(head.positions if head_pos is None else head_pos, head.normals, head.uvs, head.indices, _head_layers(head)),
    ]
    if hair is not None:  # previews never move the head, so the hair is drawn at rest
        m = hair.mesh
        meshes.append(RenderMesh(m.positions, m.normals, m.uvs, m.indices, np.full(m.vertex_count, 0.02)))
    return meshes


def _hair_arrays(hair: Hair) -> dict[str, np.ndarray]:
    return {**hair.mesh.to_arrays("hair"), "hair_joints": hair.joints, "hair_weights": hair.weights}


def _hair_info(hair: Hair) -> dict:
    return {"parts": _parts_json(hair.mesh.parts), "chains": hair.chains, "collider": list(hair.collider),
            "bones": [[name, parent, [float(v) for v in pos]] for name, parent, pos in hair.bones]}


def load_hair(ctx: StageContext) -> Hair:
    info = ctx.data("body")["hair"]
    arrays = _load_npz(ctx.file("body", "mesh.npz"))
    mesh = MeshData.from_arrays(arrays, "hair", _parts(info["parts"]))
    bones = [(name, parent, np.array(pos)) for name, parent, pos in info["bones"]]
    return Hair(mesh=mesh, joints=arrays["hair_joints"], weights=arrays["hair_weights"], bones=bones, chains=info["chains"],
                collider=tuple(info["collider"]))


def full_region(spec: ChibiSpec) -> tuple[float, float, float, float]:
    half = 0.62 * spec.height * 0.75
    return (-half, half, -0.02 * spec.height, 1.02 * spec.height)


def bust_region(spec: ChibiSpec) -> tuple[float, float, float, float]:
    top = spec.height + 0.04 * spec.head_height
    bottom = spec.body_height * 0.55
    half = (top - bottom) / 2.0
    return (-half, half, bottom, top)


class BodyStage(Stage):
    name = "body"

    def run(self, ctx: StageContext) -> StageOutput:
        params = avatar_params(ctx)
        spec = ChibiSpec(heads=params.heads, build=params.build)
        lm = face_layout(params)
        body = build_body(spec, params.outfit)
        head, first_overlay = build_head(spec, lm)
        hair = build_hair(spec, params.hair_style, params.fringe, first_joint=len(BONE_NAMES))
        ctx.checkpoint(0.4)
        # The face is drawn from the parameters: no photo pixel reaches the avatar.
        face = draw_face(lm, skin=params.skin, hair=params.hair_color, glasses=params.glasses)
        colours = {"skin": params.skin, "hair": params.hair_color, "top": params.top, "bottom": params.bottom, "shoes": params.shoes}
        atlas = build_atlas(face, colours, iris=draw_iris(params.eye_color))
        atlas_jpeg = encode_jpeg(Image.fromarray(atlas), quality=90)
        ctx.checkpoint(0.6)
        image = render_front(_render_meshes(body, head, hair=hair), atlas, size=(384, 512), region=full_region(spec),
                             face_plane=(spec.head_center, spec.head_radii))
        return StageOutput(
            data={
                "spec": {"heads": spec.heads, "build": spec.build, "height": spec.height},
                "params": params.as_dict(),
                "face_layout": lm.as_dict(),
                "hair": _hair_info(hair),
                "parts": {"body": _parts_json(body.parts), "head": _parts_json(head.parts)},
                "first_overlay": first_overlay,
                "vertices": body.vertex_count + head.vertex_count + hair.mesh.vertex_count,
                "triangles": int(len(body.indices) + len(head.indices) + len(hair.mesh.indices)),
            },
            files={"mesh.npz": _npz(**body.to_arrays("body"), **head.to_arrays("head"), **_hair_arrays(hair)), "atlas.jpg": atlas_jpeg},
            preview=encode_jpeg(Image.fromarray(image), quality=88),
        )


def load_meshes(ctx: StageContext) -> tuple[ChibiSpec, MeshData, MeshData, dict]:
    info = ctx.data("body")
    spec = ChibiSpec(**info["spec"])
    arrays = _load_npz(ctx.file("body", "mesh.npz"))
    body = MeshData.from_arrays(arrays, "body", _parts(info["parts"]["body"]))
    head = MeshData.from_arrays(arrays, "head", _parts(info["parts"]["head"]))
    return spec, body, head, info


def preview_pose() -> dict[str, np.ndarray]:
    """A wave with the right arm, the left arm down: shows the skeleton and the skinning at work."""
    return {
        "leftUpperArm": quat((0, 0, 1), -68.0),
        "rightUpperArm": quat_mul(quat((0, 0, 1), -35.0), quat((1, 0, 0), -10.0)),
        "rightLowerArm": quat((0, 0, 1), -40.0),
        "leftUpperLeg": quat((0, 0, 1), 4.0),
        "rightUpperLeg": quat((0, 0, 1), -4.0),
    }


class RigStage(Stage):
    name = "rig"

    def run(self, ctx: StageContext) -> StageOutput:
        spec, body, head, info = load_meshes(ctx)
        lm = FaceLandmarks.from_dict(info["face_layout"])
        body_joints, body_weights = skin_weights(body)
        head_joints, head_weights = skin_weights(head)
        ctx.checkpoint(0.5)
        morphs = morph_targets(spec, lm, head, info["first_overlay"])
        arrays = {"body_joints": body_joints, "body_weights": body_weights, "head_joints": head_joints, "head_weights": head_weights}
        arrays.update({f"morph_{name}": delta for name, delta in morphs.items()})
        ctx.checkpoint(0.7)

        # Preview: posed by CPU skinning, smiling, with the skeleton drawn over it.
        matrices = pose_matrices(spec, preview_pose())
        body_pos = skin_positions(body.positions, body_joints, body_weights, matrices)
        head_pos = skin_positions(head.positions + morphs["happy"], head_joints, head_weights, matrices)
        atlas = decode(ctx.file("body", "atlas.jpg"))
        joints = spec.joints()
        posed = {name: (matrices[i] @ np.append(joints[name], 1.0))[:3] for i, name in enumerate(BONE_NAMES)}
        bones = [(posed[parent], posed[name]) for name, parent in BONES if parent]
        image = render_front(_render_meshes(body, head, body_pos, head_pos, hair=load_hair(ctx)), atlas, size=(384, 512), region=full_region(spec),
                             face_plane=(spec.head_center, spec.head_radii), bones=bones)
        return StageOutput(
            data={"bones": list(BONE_NAMES), "expressions": list(EXPRESSIONS)},
            files={"rig.npz": _npz(**arrays)},
            preview=encode_jpeg(Image.fromarray(image), quality=88),
        )


def vrm_meta(options: dict, owner_name: str) -> VrmMeta:
    license_ = options.get("license") or {}
    name = (options.get("name") or "").strip() or f"{owner_name} chibi"
    return VrmMeta(
        name=name[:128],
        authors=[owner_name or "AvatarForge user"],
        copyright=f"© {owner_name}" if owner_name else "",
        avatar_permission=license_.get("avatar_permission", "onlyAuthor"),
        commercial_usage=license_.get("commercial_usage", "personalNonProfit"),
        credit_notation=license_.get("credit_notation", "required"),
        allow_redistribution=bool(license_.get("allow_redistribution", False)),
        modification=license_.get("modification", "prohibited"),
        allow_violent=bool(license_.get("allow_violent", False)),
        allow_sexual=bool(license_.get("allow_sexual", False)),
        allow_political=bool(license_.get("allow_political", False)),
        allow_antisocial=bool(license_.get("allow_antisocial", False)),
    )


class ExportStage(Stage):
    name = "export"

    def run(self, ctx: StageContext) -> StageOutput:
        spec, body, head, info = load_meshes(ctx)
        rig = _load_npz(ctx.file("rig", "rig.npz"))
        morphs = {name: rig[f"morph_{name}"] for name in EXPRESSIONS}
        atlas_jpeg = ctx.file("body", "atlas.jpg")
        atlas = decode(atlas_jpeg)
        hair = load_hair(ctx)
        image = render_front(_render_meshes(body, head, hair=hair), atlas, size=(512, 512), region=bust_region(spec),
                             face_plane=(spec.head_center, spec.head_radii), background=(232, 228, 250))
        thumbnail = encode_jpeg(Image.fromarray(image), quality=88)
        ctx.checkpoint(0.4)
        clips = all_clips()
        data = build_vrm(
            spec=spec, body=body, body_skin=(rig["body_joints"], rig["body_weights"]),
            head=head, head_skin=(rig["head_joints"], rig["head_weights"]), morphs=morphs, hair=hair,
            texture_jpeg=atlas_jpeg, thumbnail=thumbnail, thumbnail_mime="image/jpeg",
            meta=vrm_meta(ctx.options, ctx.owner_name), clips=clips,
        )
        return StageOutput(
            data={
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "vertices": info["vertices"],
                "triangles": info["triangles"],
                "clips": [clip.name for clip in clips],
                "expressions": list(EXPRESSIONS),
                "name": vrm_meta(ctx.options, ctx.owner_name).name,
            },
            files={"avatar.vrm": data, "thumbnail.jpg": thumbnail},
            preview=thumbnail,
        )


