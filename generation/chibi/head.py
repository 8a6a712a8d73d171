"""The head: an ellipsoid whose front carries the stylized face, and a face rig of overlays.

The face itself is a texture, so expressions are drawn by thin overlay shapes that float just above
the skin: eyelids with a lash line (blink, happy, angry...), a mouth (visemes aa/ih/ou/ee/oh) and
brows. At rest every overlay is collapsed onto a line or a point (zero-area triangles draw nothing);
each expression is a morph target that opens them into a shape, so any weight shows a sensible,
partly opened shape. All shapes are laid out in face-image coordinates (u right, v down,
0..1 across the face crop) and projected onto the ellipsoid, so they follow its curvature.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from . import atlas
from .geometry import MeshBuilder, MeshData, Part, _orient, ellipsoid
from .spec import ChibiSpec

FRONT_CUT = 0.25  # unit-sphere z above which the head shows the face texture
# Every VRM 1.0 preset expression, then the ARKit blendshapes the call's face tracker sends (VRM
# custom expressions of the same names: the call's renderer drives those directly).
PRESET_EXPRESSIONS: tuple[str, ...] = (
    "blink", "blinkLeft", "blinkRight", "aa", "ih", "ou", "ee", "oh",
    "happy", "angry", "sad", "surprised", "relaxed",
    "lookUp", "lookDown", "lookLeft", "lookRight",
)
ARKIT_EXPRESSIONS: tuple[str, ...] = (
    "jawOpen", "mouthSmileLeft", "mouthSmileRight", "eyeBlinkLeft", "eyeBlinkRight",
    "browInnerUp", "mouthFunnel", "mouthPucker",
)
EXPRESSIONS: tuple[str, ...] = PRESET_EXPRESSIONS + ARKIT_EXPRESSIONS
IRIS_RING = 16
LID_COLS, MOUTH_RING, BROW_COLS = 9, 20, 6
# Separate eyelid geometry per blink expression: renderers often drive blink together with
# blinkLeft/blinkRight; with one shared lid the morphs would add up and close the eye twice. With a
# lid each, the eye is as closed as the most closed lid (a union, never a sum).
LID_SETS: tuple[tuple[str, tuple[bool, ...]], ...] = (
    ("blink", (True, True)), ("blinkLeft", (True, False)), ("blinkRight", (False, True)), ("emotion", (True, True)),
)


@dataclass(frozen=True)
class FaceLandmarks:
    """Positions in face-crop coordinates. The avatar's left eye is on the image's right (u > 0.5)."""

    left_eye: tuple[float, float] = (0.62, 0.49)
    right_eye: tuple[float, float] = (0.38, 0.49)
    eye_w: float = 0.12
    eye_h: float = 0.065
    mouth: tuple[float, float] = (0.5, 0.71)
    mouth_w: float = 0.2

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> FaceLandmarks:
        return cls(
            left_eye=tuple(data["left_eye"]), right_eye=tuple(data["right_eye"]),
            eye_w=float(data["eye_w"]), eye_h=float(data["eye_h"]),
            mouth=tuple(data["mouth"]), mouth_w=float(data["mouth_w"]),
        )


@dataclass(frozen=True)
class FaceShape:
    """Closures (0 open .. 1 closed) of each lid set, and the mouth and brow shapes."""

    blink: float = 0.0
    blink_left: float = 0.0
    blink_right: float = 0.0
    lids: float = 0.0  # the emotion lids, shaped by slant and smile
    lid_slant: float = 0.0  # +1: inner corners lower (angry), -1: outer corners lower (sad)
    lid_smile: float = 0.0  # lower edge curving up (happy eyes)
    mouth: tuple[float, float, float, float] | None = None  # width, up, down, curve (mouth widths)
    brow: tuple[float, float, float] = (0.0, 0.0, 0.0)  # visibility, raise, slant (+ angry)
    mouth_side: float = 0.0  # +1: the avatar's left corner raised (a one-sided smile), -1: the right
    look: tuple[float, float] = (0.0, 0.0)  # iris shift: +x towards the avatar's left, +y up

    def closure(self, lid_set: str) -> float:
        return {"blink": self.blink, "blinkLeft": self.blink_left, "blinkRight": self.blink_right, "emotion": self.lids}[lid_set]


SHAPES: dict[str, FaceShape] = {
    "rest": FaceShape(),
    "blink": FaceShape(blink=1.0),
    "blinkLeft": FaceShape(blink_left=1.0),
    "blinkRight": FaceShape(blink_right=1.0),
    "aa": FaceShape(mouth=(0.75, 0.16, 0.5, 0.0)),
    "ih": FaceShape(mouth=(1.0, 0.06, 0.16, 0.03)),
    "ou": FaceShape(mouth=(0.4, 0.16, 0.22, 0.0)),
    "ee": FaceShape(mouth=(0.95, 0.08, 0.26, 0.06)),
    "oh": FaceShape(mouth=(0.6, 0.22, 0.36, 0.0)),
    "happy": FaceShape(lids=0.55, lid_smile=1.0, mouth=(0.95, 0.03, 0.38, 0.12)),
    "angry": FaceShape(lids=0.35, lid_slant=1.0, mouth=(0.7, 0.03, 0.05, -0.1), brow=(1.0, -0.2, 1.0)),
    "sad": FaceShape(lids=0.3, lid_slant=-1.0, mouth=(0.65, 0.03, 0.04, -0.16), brow=(1.0, 0.15, -1.0)),
    "surprised": FaceShape(mouth=(0.45, 0.25, 0.4, 0.0), brow=(1.0, 0.7, 0.0)),
    "relaxed": FaceShape(lids=0.4, lid_smile=0.4, mouth=(0.8, 0.01, 0.06, 0.08)),
    "lookUp": FaceShape(look=(0.0, 1.0)),
    "lookDown": FaceShape(look=(0.0, -1.0)),
    "lookLeft": FaceShape(look=(1.0, 0.0)),
    "lookRight": FaceShape(look=(-1.0, 0.0)),
    "jawOpen": FaceShape(mouth=(0.7, 0.14, 0.62, 0.0)),
    "mouthSmileLeft": FaceShape(mouth=(0.85, 0.02, 0.1, 0.06), mouth_side=1.0),
    "mouthSmileRight": FaceShape(mouth=(0.85, 0.02, 0.1, 0.06), mouth_side=-1.0),
    "eyeBlinkLeft": FaceShape(blink_left=1.0),
    "eyeBlinkRight": FaceShape(blink_right=1.0),
    "browInnerUp": FaceShape(brow=(1.0, 0.35, -0.9)),
    "mouthFunnel": FaceShape(mouth=(0.45, 0.2, 0.3, 0.0)),
    "mouthPucker": FaceShape(mouth=(0.28, 0.07, 0.09, 0.0)),
}


# Every overlay open at once: only used to orient the overlay triangles.
OPENED = FaceShape(blink=1.0, blink_left=1.0, blink_right=1.0, lids=1.0, mouth=(1.0, 0.2, 0.3, 0.0), brow=(1.0, 0.0, 0.0))


class HeadSurface:
    """Maps face coordinates to points on the head ellipsoid's front."""

    def __init__(self, spec: ChibiSpec) -> None:
        self.centre = spec.head_center
        self.radii = spec.head_radii

    def point(self, u: np.ndarray, v: np.ndarray, offset: float) -> np.ndarray:
        x = np.clip((np.asarray(u) - 0.5) * 2.0, -0.98, 0.98)
        y = np.clip((0.5 - np.asarray(v)) * 2.0, -0.98, 0.98)
        z = np.sqrt(np.clip(1.0 - x * x - y * y, 0.04, 1.0))
        unit = np.stack([x, y, z], axis=-1)
        normal = unit / self.radii
        normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
        return self.centre + unit * self.radii + normal * offset


def _bump(s: np.ndarray) -> np.ndarray:
    return 1.0 - (2.0 * s - 1.0) ** 2


def _lid_rows(lm: FaceLandmarks, eye: tuple[float, float], inner_at_low_s: bool, closure: float,
              slant: float, smile: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """u, v of the lid top, lid bottom, lash bottom rows (each LID_COLS long).

    Open (closure 0) every row lies on the top edge: zero-area triangles, which draw nothing.
    """
    ex, ey = eye
    s = np.linspace(0.0, 1.0, LID_COLS)
    u = ex + (s - 0.5) * 1.6 * lm.eye_w
    bump = _bump(s)
    top = ey - 0.7 * lm.eye_h - 0.3 * lm.eye_h * bump
    close = ey + 0.5 * lm.eye_h * np.sqrt(np.clip(bump, 0.0, 1.0))
    inner = (1.0 - s) if inner_at_low_s else s
    bottom = top + closure * (close - top)
    bottom = bottom + closure * slant * 0.6 * lm.eye_h * (inner - 0.5)
    bottom = bottom - closure * smile * 0.55 * lm.eye_h * bump
    bottom = np.maximum(bottom, top)
    lash = bottom + min(closure, 1.0) * 0.16 * lm.eye_h
    return u, top, bottom, lash


def _mouth_ring(lm: FaceLandmarks, params: tuple[float, float, float, float] | None, side: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Centre and ring of the mouth; closed (None) it is a single point."""
    mx, my = lm.mouth
    width, up, down, curve = params or (0.0, 0.0, 0.0, 0.0)
    phi = np.linspace(0.0, 2.0 * np.pi, MOUTH_RING, endpoint=False)
    cos, sin = np.cos(phi), np.sin(phi)
    u = mx + 0.5 * width * lm.mouth_w * cos
    v = my - np.where(sin >= 0, up, down) * lm.mouth_w * sin - curve * lm.mouth_w * cos**2
    if params is not None and side:
        # The avatar's left is the image's right (u > mx): lift that corner, drop the other a little.
        lift = np.where(cos * side > 0, 0.35, -0.08) * lm.mouth_w * np.abs(cos) ** 2
        v = v - lift
    return np.concatenate([[mx], u]), np.concatenate([[my - 0.5 * curve * lm.mouth_w], v])


def _brow_rows(lm: FaceLandmarks, eye: tuple[float, float], inner_at_low_s: bool,
               brow: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    visible, raise_, slant = brow
    ex, ey = eye
    s = np.linspace(0.0, 1.0, BROW_COLS)
    u = ex + (s - 0.5) * 1.3 * lm.eye_w
    inner = (1.0 - s) if inner_at_low_s else s
    centre = ey - 1.45 * lm.eye_h - raise_ * 0.6 * lm.eye_h - 0.15 * lm.eye_h * _bump(s)
    centre = centre + slant * 0.5 * lm.eye_h * (inner - 0.5)
    half = 0.5 * visible * 0.28 * lm.eye_h * (0.6 + 0.4 * _bump(s) ** 0.3)
    return u, centre - half, centre + half


# Offsets above the skin (metres): lashes over lids, everything clear of the head's facets; each lid
# set a little further out than the one before, so coinciding closed lids never z-fight.
LID_OFFSET, LASH_EXTRA, SET_STEP, MOUTH_OFFSET, BROW_OFFSET = 0.004, 0.0005, 0.0002, 0.004, 0.0045


def _strip_tris(cols: int, top_row: int, bottom_row: int) -> list[tuple[int, int, int]]:
    tris = []
    for c in range(cols - 1):
        a, b = top_row + c, top_row + c + 1
        d, e = bottom_row + c, bottom_row + c + 1
        tris.append((a, d, b))
        tris.append((b, d, e))
    return tris


def feature_layout(lm: FaceLandmarks, shape: FaceShape) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Face-space u, v and offset of every overlay vertex for a shape, plus each vertex's swatch.

    The vertex order and count never change between shapes (morph targets rely on it).
    """
    us: list[np.ndarray] = []
    vs: list[np.ndarray] = []
    offs: list[np.ndarray] = []
    swatches: list[str] = []
    eyes = ((lm.left_eye, True), (lm.right_eye, False))
    for set_index, (lid_set, which) in enumerate(LID_SETS):
        closure = shape.closure(lid_set)
        slant, smile = (shape.lid_slant, shape.lid_smile) if lid_set == "emotion" else (0.0, 0.0)
        offset = LID_OFFSET + set_index * SET_STEP
        for (eye, inner_low), included in zip(eyes, which, strict=True):
            if not included:
                continue
            u, top, bottom, lash = _lid_rows(lm, eye, inner_low, closure, slant, smile)
            for row, swatch, off in ((top, "skin", offset), (bottom, "skin", offset),
                                     (bottom, "lash", offset + LASH_EXTRA), (lash, "lash", offset + LASH_EXTRA)):
                us.append(u)
                vs.append(row)
                offs.append(np.full(LID_COLS, off))
                swatches += [swatch] * LID_COLS
    u, v = _mouth_ring(lm, shape.mouth, shape.mouth_side)
    us.append(u)
    vs.append(v)
    offs.append(np.full(len(u), MOUTH_OFFSET))
    swatches += ["mouth"] * len(u)
    for eye, inner_low in eyes:
        u, top, bottom = _brow_rows(lm, eye, inner_low, shape.brow)
        for row in (top, bottom):
            us.append(u)
            vs.append(row)
            offs.append(np.full(BROW_COLS, BROW_OFFSET))
            swatches += ["brow"] * BROW_COLS
    return np.concatenate(us), np.concatenate(vs), np.concatenate(offs), swatches


def feature_triangles() -> np.ndarray:
    tris: list[tuple[int, int, int]] = []
    base = 0
    for _set, which in LID_SETS:
        for _eye in range(sum(which)):
            tris += _strip_tris(LID_COLS, base, base + LID_COLS)  # lid
            tris += _strip_tris(LID_COLS, base + 2 * LID_COLS, base + 3 * LID_COLS)  # lash
            base += 4 * LID_COLS
    centre = base
    for k in range(MOUTH_RING):
        tris.append((centre, centre + 1 + (k + 1) % MOUTH_RING, centre + 1 + k))
    base += 1 + MOUTH_RING
    for _eye in range(2):
        tris += _strip_tris(BROW_COLS, base, base + BROW_COLS)
        base += 2 * BROW_COLS
    return np.array(tris, dtype=np.int64)


def feature_positions(surface: HeadSurface, lm: FaceLandmarks, shape: FaceShape) -> np.ndarray:
    u, v, off, _sw = feature_layout(lm, shape)
    return surface.point(u, v, 0.0) + _normals(surface, u, v) * off[:, None]


# The irises are discs of their own between the skin (which carries the drawn eye whites) and the
# lids, so gaze moves them (lookUp/Down/Left/Right) and closing lids still cover them.
IRIS_OFFSET = 0.0022
IRIS_RX, IRIS_RY = 0.42, 0.62  # radii in eye widths / eye heights
LOOK_X, LOOK_Y = 0.3, 0.22  # gaze shift in eye widths / eye heights


IRIS_RINGS = (0.3, 0.6, 0.82, 1.0)  # concentric rings: the flat-shaded preview samples each band
IRIS_VERTS = 1 + IRIS_RING * len(IRIS_RINGS)


def iris_layout(lm: FaceLandmarks, look: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Face u, v of both iris discs (centre, then each ring, per eye) and each vertex's atlas UV."""
    phi = np.linspace(0.0, 2.0 * np.pi, IRIS_RING, endpoint=False)
    ring_x = np.concatenate([[0.0]] + [r * np.cos(phi) for r in IRIS_RINGS])
    ring_y = np.concatenate([[0.0]] + [r * np.sin(phi) for r in IRIS_RINGS])
    us, vs, uvs = [], [], []
    cell_u, cell_v = atlas.iris_uv()
    for ex, ey in (lm.left_eye, lm.right_eye):
        cx = ex + look[0] * LOOK_X * lm.eye_w
        cy = ey - 0.12 * lm.eye_h - look[1] * LOOK_Y * lm.eye_h
        us.append(cx + IRIS_RX * lm.eye_w * ring_x)
        vs.append(cy - IRIS_RY * lm.eye_h * ring_y)
        uvs.append(np.stack([cell_u(ring_x), cell_v(-ring_y)], axis=1))
    return np.concatenate(us), np.concatenate(vs), np.concatenate(uvs)


def iris_triangles(base: int = 0) -> np.ndarray:
    tris = []
    for eye in range(2):
        centre = base + eye * IRIS_VERTS
        for k in range(IRIS_RING):
            tris.append((centre, centre + 1 + k, centre + 1 + (k + 1) % IRIS_RING))
        for r in range(len(IRIS_RINGS) - 1):
            inner, outer = centre + 1 + r * IRIS_RING, centre + 1 + (r + 1) * IRIS_RING
            for k in range(IRIS_RING):
                k1 = (k + 1) % IRIS_RING
                tris.append((inner + k, outer + k, outer + k1))
                tris.append((inner + k, outer + k1, inner + k1))
    return np.array(tris, dtype=np.int64)


def iris_positions(surface: HeadSurface, lm: FaceLandmarks, look: tuple[float, float]) -> np.ndarray:
    u, v, _uv = iris_layout(lm, look)
    return surface.point(u, v, 0.0) + _normals(surface, u, v) * IRIS_OFFSET


def overlay_positions(surface: HeadSurface, lm: FaceLandmarks, shape: FaceShape) -> np.ndarray:
    """Every overlay vertex (lids, mouth, brows, then the irises) for a shape."""
    return np.concatenate([feature_positions(surface, lm, shape), iris_positions(surface, lm, shape.look)])


def _normals(surface: HeadSurface, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    p = surface.point(u, v, 0.0) - surface.centre
    n = p / surface.radii**2
    return n / np.linalg.norm(n, axis=1, keepdims=True)


def build_head(spec: ChibiSpec, lm: FaceLandmarks) -> tuple[MeshData, int]:
    """Head ellipsoid (face in front, hair behind, skin under the chin) plus the rest-state overlays.

    Returns the mesh and the index of the first overlay vertex.
    """
    mb = MeshBuilder()
    centre, radii = spec.head_center, spec.head_radii
    pos, nrm, tris = ellipsoid(centre, radii, n_lon=40, n_lat=30)
    unit = (pos - centre) / radii
    cent = unit[tris].mean(axis=1)
    front = (unit[tris][:, :, 2] > FRONT_CUT).all(axis=1)
    region = np.where(front, "face", np.where(cent[:, 1] < -0.55, "skin", "hair"))
    head_part = mb.add_part(Part("head", "face", {"rigid": "head"}))
    for name in ("face", "hair", "skin"):
        sel = tris[region == name]
        if not len(sel):
            continue
        used, local = np.unique(sel, return_inverse=True)
        if name == "face":
            u, v = atlas.face_uv(0.5 + unit[used, 0] / 2.0, 0.5 - unit[used, 1] / 2.0)
            uv = np.stack([u, v], axis=1)
        else:
            uv = np.tile(np.array(atlas.swatch_uv(name)), (len(used), 1))
        mb.add(pos[used], nrm[used], uv, local.reshape(-1, 3), head_part)
    first_overlay = mb.count

    surface = HeadSurface(spec)
    u, v, _off, swatches = feature_layout(lm, SHAPES["rest"])
    rest = feature_positions(surface, lm, SHAPES["rest"])
    normals = _normals(surface, u, v)
    uvs = np.array([atlas.swatch_uv(s) for s in swatches])
    face_part = mb.add_part(Part("face_rig", "skin", {"rigid": "head"}))
    # Overlays face outward like the skin below them (judged on an opened shape: at rest they are flat).
    opened = feature_positions(surface, lm, OPENED)
    tris = _orient(opened, feature_triangles(), lambda p: (p - centre) / radii**2)
    mb.add(rest, normals, uvs, tris, face_part)
    iu, iv, iuv = iris_layout(lm, (0.0, 0.0))
    iris = iris_positions(surface, lm, (0.0, 0.0))
    iris_tris = _orient(iris, iris_triangles(), lambda p: (p - centre) / radii**2)
    mb.add(iris, _normals(surface, iu, iv), iuv, iris_tris, mb.add_part(Part("irises", "iris", {"rigid": "head"})))
    return mb.build(), first_overlay


def morph_targets(spec: ChibiSpec, lm: FaceLandmarks, head: MeshData, first_overlay: int) -> dict[str, np.ndarray]:
    """Position deltas of the whole head mesh for each expression (zero outside the overlays)."""
    surface = HeadSurface(spec)
    rest = overlay_positions(surface, lm, SHAPES["rest"])
    targets = {}
    for name in EXPRESSIONS:
        delta = np.zeros((head.vertex_count, 3), dtype=np.float32)
        delta[first_overlay:] = overlay_positions(surface, lm, SHAPES[name]) - rest
        targets[name] = delta
    return targets
