"""The 2D stylized portrait of seed 004 section 5.7 (POST /api/style/transform), drawn by the same
code that builds the avatar.

Presets (PORTRAIT_PRESETS):
- "chibi":   the generated chibi (2.0 heads) seen from the front, head and shoulders, cel-shaded.
             Built from the photo reading's parameters only: no photo pixel is in the picture.
- "anime":   the same generator with longer (3.0 heads) proportions, inked outlines and a livelier
             grade on a gradient backdrop. Also built from the parameters only.
- "cartoon": the photo's own head crop, cartoonized (edge-preserving smoothing, a few colours,
             ink lines: the pipeline's "comic" look). The only preset made from the photo's pixels.

Strength s (0.0..1.0) blends two pictures of the same preset, pixel by pixel:
    result = (1 - s) * flat + s * full
`full` is the preset's picture above; `flat` is that picture with every pixel replaced by the
nearest colour of the read palette (skin, hair, eyes, clothing, trousers and the preset's
backdrop), so no shading, highlight or line survives. At 0.0 the picture is made of the colours
read from the photo only; at 1.0 it is the full stylization.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..chibi.atlas import build_atlas, hex_to_rgb
from ..chibi.face import draw_face, draw_iris
from ..chibi.geometry import build_body
from ..chibi.hair import build_hair
from ..chibi.head import build_head
from ..chibi.params import AvatarParams, face_layout
from ..chibi.render import RenderMesh, render_front
from ..chibi.spec import BONE_NAMES, ChibiSpec

SIZE = 512
PORTRAIT_PRESETS = ("chibi", "anime", "cartoon")
BACKDROP = {"chibi": (238, 232, 250), "anime": (205, 225, 250), "cartoon": (250, 240, 215)}
HEADS = {"chibi": 2.0, "anime": 3.0}


@dataclass(frozen=True)
class PortraitInput:
    """What a portrait is made from: the avatar parameters read from the photo and, for
    "cartoon" only, the photo's head crop (SIZE square RGB)."""

    params: AvatarParams
    head_crop: np.ndarray | None = None


def palette(params: AvatarParams, preset: str) -> np.ndarray:
    """The read colours (and the preset's backdrop) as an (N, 3) float array."""
    names = (params.skin, params.hair_color, params.eye_color, params.top, params.bottom)
    return np.array([hex_to_rgb(v) for v in names] + [BACKDROP[preset]], np.float32)


def _bust(params: AvatarParams, heads: float) -> np.ndarray:
    """The chibi built from `params`, rendered from the front: head and shoulders, SIZE square."""
    from ..stages.build import _render_meshes

    spec = ChibiSpec(heads=heads, build=params.build)
    lm = face_layout(params)
    body = build_body(spec, params.outfit)
    head, _first = build_head(spec, lm)
    hair = build_hair(spec, params.hair_style, params.fringe, first_joint=len(BONE_NAMES))
    face = draw_face(lm, skin=params.skin, hair=params.hair_color, glasses=params.glasses)
    colours = {"skin": params.skin, "hair": params.hair_color, "top": params.top, "bottom": params.bottom, "shoes": params.shoes}
    atlas = build_atlas(face, colours, iris=draw_iris(params.eye_color))
    meshes: list[RenderMesh] = _render_meshes(body, head)
    # The renderer paints whole triangles back to front by their mean depth, and hair triangles that
    # wrap from the side to the back of the skull would sort in front of the face. Hair behind the
    # skull's centre is therefore painted first (seen only outside the head's outline), the front
    # hair last with the lift that keeps the fringe above the forehead (RenderMesh.layer).
    m = hair.mesh
    lift = np.where(m.positions[:, 2] > spec.head_center[2], 0.02, -1.0)
    meshes.append(RenderMesh(m.positions, m.normals, m.uvs, m.indices, lift))
    return render_front(meshes, atlas, size=(SIZE, SIZE), region=_portrait_region(spec),
                        face_plane=(spec.head_center, spec.head_radii), background=(0, 0, 0))


def _portrait_region(spec: ChibiSpec) -> tuple[float, float, float, float]:
    """Head and shoulders: from a little above the crown down to the chest (arms mostly outside)."""
    top = spec.height + 0.06 * spec.head_height
    bottom = spec.height - 1.55 * spec.head_height
    half = (top - bottom) / 2.0
    return (-half, half, bottom, top)


def _backdrop_mask(image: np.ndarray) -> np.ndarray:
    # render_front paints the background pure black; the drawn figure never is (its darkest ink is
    # (34, 22, 26)), so black marks the backdrop exactly.
    return (image == 0).all(axis=2)


def _chibi(params: AvatarParams) -> np.ndarray:
    image = _bust(params, HEADS["chibi"])
    image[_backdrop_mask(image)] = BACKDROP["chibi"]
    return image


def _anime(params: AvatarParams) -> np.ndarray:
    image = _bust(params, HEADS["anime"])
    backdrop = _backdrop_mask(image)
    # Livelier colours, then ink: outlines where the flat colours change (Canny on the render).
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[:, :, 1] = np.clip(hsv[:, :, 1] * 1.25 + 8, 0, 255)
    image = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)
    rows = np.linspace(0.0, 1.0, SIZE, dtype=np.float32)[:, None, None]
    top, bottom = np.array(BACKDROP["anime"], np.float32), np.array((250, 214, 230), np.float32)
    gradient = np.broadcast_to((1 - rows) * top + rows * bottom, (SIZE, SIZE, 3)).astype(np.uint8)
    image[backdrop] = gradient[backdrop]
    edges = cv2.Canny(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), 40, 110)
    edges = cv2.dilate(edges, np.ones((2, 2), np.uint8)) > 0
    image[edges & ~backdrop] = (40, 28, 44)
    return image


def _cartoon(crop: np.ndarray) -> np.ndarray:
    from ..stages.stylize import PRESETS, cartoonize

    return cartoonize(crop, PRESETS["comic"])


def full_portrait(source: PortraitInput, preset: str) -> np.ndarray:
    if preset == "chibi":
        return _chibi(source.params)
    if preset == "anime":
        return _anime(source.params)
    if preset == "cartoon":
        if source.head_crop is None:
            raise ValueError("the cartoon preset needs the photo's head crop")
        return _cartoon(source.head_crop)
    raise ValueError(f"unknown portrait preset {preset!r}")


def flatten(image: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """Every pixel replaced by the nearest of `colours` (RGB distance)."""
    from ..stages.stylize import nearest

    return colours[nearest(image.reshape(-1, 3), colours)].reshape(image.shape)


def draw_portrait(source: PortraitInput, preset: str, strength: float) -> np.ndarray:
    """The SIZE square RGB portrait for `preset` at `strength` (see the module's docstring)."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError("strength is 0.0..1.0")
    full = full_portrait(source, preset)
    if strength >= 1.0:
        return full
    flat = flatten(full, palette(source.params, preset))
    return np.clip(np.rint((1.0 - strength) * flat + strength * full.astype(np.float32)), 0, 255).astype(np.uint8)
