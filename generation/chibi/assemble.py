"""The whole chibi in one call, from parameters to VRM bytes: what the creator's live preview
shows while the user edits (the job's body, rig and export stages do the same work in steps, with
previews and checkpoints; this is the short path, about half a second on one core).
"""
from __future__ import annotations

import io

from PIL import Image

from .anim import all_clips
from .atlas import build_atlas
from .face import draw_face, draw_iris
from .geometry import build_body
from .hair import build_hair
from .head import EXPRESSIONS, build_head, morph_targets
from .params import AvatarParams, face_layout
from .rig import skin_weights
from .spec import BONE_NAMES, ChibiSpec
from .vrm import VrmMeta, build_vrm

PREVIEW_THUMBNAIL = 64  # px: the meta needs a thumbnail; a preview's is a flat swatch


def assemble(params: AvatarParams, meta: VrmMeta, *, thumbnail: bytes | None = None) -> bytes:
    spec = ChibiSpec(heads=params.heads, build=params.build)
    lm = face_layout(params)
    body = build_body(spec, params.outfit)
    head, first = build_head(spec, lm)
    hair = build_hair(spec, params.hair_style, params.fringe, first_joint=len(BONE_NAMES))
    face = draw_face(lm, skin=params.skin, hair=params.hair_color, glasses=params.glasses)
    colours = {"skin": params.skin, "hair": params.hair_color, "top": params.top, "bottom": params.bottom, "shoes": params.shoes}
    atlas = build_atlas(face, colours, iris=draw_iris(params.eye_color))
    texture = io.BytesIO()
    Image.fromarray(atlas).save(texture, "JPEG", quality=88)
    if thumbnail is None:
        out = io.BytesIO()
        Image.new("RGB", (PREVIEW_THUMBNAIL, PREVIEW_THUMBNAIL), colours["hair"]).save(out, "PNG")
        thumbnail = out.getvalue()
    morphs = morph_targets(spec, lm, head, first)
    return build_vrm(
        spec=spec, body=body, body_skin=skin_weights(body), head=head, head_skin=skin_weights(head),
        morphs={name: morphs[name] for name in EXPRESSIONS}, texture_jpeg=texture.getvalue(), thumbnail=thumbnail,
        thumbnail_mime="image/png", meta=meta, clips=all_clips(), hair=hair,
    )
