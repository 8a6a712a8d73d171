"""Parametric geometry: tubes and ellipsoids assembled into a chibi body and head.

Each vertex remembers which part it belongs to; a part says how it is skinned (rigidly to one bone,
or along a chain of bones on one axis), so the rig stage can weight it without guessing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import atlas
from .spec import ChibiSpec


@dataclass
class Part:
    name: str
    swatch: str  # atlas swatch, or "face" for planar face UVs
    skin: dict  # {"rigid": bone} or {"axis": 0|1, "chain": [[bone, start_coord], ...], "blend": width}


@dataclass
class MeshData:
    positions: np.ndarray  # (N, 3) float32
    normals: np.ndarray  # (N, 3) float32, unit length
    uvs: np.ndarray  # (N, 2) float32
    indices: np.ndarray  # (M, 3) uint32
    vertex_part: np.ndarray  # (N,) int16 index into parts
    parts: list[Part] = field(default_factory=list)

    @property
    def vertex_count(self) -> int:
        return int(self.positions.shape[0])

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}_positions": self.positions,
            f"{prefix}_normals": self.normals,
            f"{prefix}_uvs": self.uvs,
            f"{prefix}_indices": self.indices,
            f"{prefix}_vertex_part": self.vertex_part,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str, parts: list[Part]) -> MeshData:
        return cls(
            positions=arrays[f"{prefix}_positions"],
            normals=arrays[f"{prefix}_normals"],
            uvs=arrays[f"{prefix}_uvs"],
            indices=arrays[f"{prefix}_indices"],
            vertex_part=arrays[f"{prefix}_vertex_part"],
            parts=parts,
        )


class MeshBuilder:
    def __init__(self) -> None:
        self._pos: list[np.ndarray] = []
        self._nrm: list[np.ndarray] = []
        self._uv: list[np.ndarray] = []
        self._tri: list[np.ndarray] = []
        self._part: list[np.ndarray] = []
        self.parts: list[Part] = []
        self.count = 0

    def add_part(self, part: Part) -> int:
        self.parts.append(part)
        return len(self.parts) - 1

    def add(self, pos: np.ndarray, nrm: np.ndarray | None, uv: np.ndarray | None, tris: np.ndarray, part: int) -> int:
        """Append vertices (normals computed from triangles when None) and local triangles."""
        pos = np.asarray(pos, dtype=np.float64)
        tris = np.asarray(tris, dtype=np.int64)
        if nrm is None:
            nrm = vertex_normals(pos, tris)
        if uv is None:
            uv = np.tile(np.array(atlas.swatch_uv(self.parts[part].swatch)), (len(pos), 1))
        offset = self.count
        self._pos.append(pos)
        self._nrm.append(np.asarray(nrm, dtype=np.float64))
        self._uv.append(np.asarray(uv, dtype=np.float64))
        self._tri.append(tris + offset)
        self._part.append(np.full(len(pos), part, dtype=np.int16))
        self.count += len(pos)
        return offset

    def build(self) -> MeshData:
        normals = np.concatenate(self._nrm)
        lengths = np.linalg.norm(normals, axis=1, keepdims=True)
        normals = normals / np.where(lengths > 0, lengths, 1.0)
        return MeshData(
            positions=np.concatenate(self._pos).astype(np.float32),
            normals=normals.astype(np.float32),
            uvs=np.concatenate(self._uv).astype(np.float32),
            indices=np.concatenate(self._tri).astype(np.uint32),
            vertex_part=np.concatenate(self._part),
            parts=list(self.parts),
        )


def vertex_normals(pos: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals; falls back to +Z for isolated vertices."""
    a, b, c = pos[tris[:, 0]], pos[tris[:, 1]], pos[tris[:, 2]]
    face = np.cross(b - a, c - a)
    normals = np.zeros_like(pos)
    for k in range(3):
        np.add.at(normals, tris[:, k], face)
    lengths = np.linalg.norm(normals, axis=1, keepdims=True)
    normals[lengths[:, 0] == 0] = (0.0, 0.0, 1.0)
    lengths[lengths == 0] = 1.0
    return normals / lengths


def _grid_tris(rings: int, segments: int, closed: bool = True) -> np.ndarray:
    """Triangles between consecutive rings of `segments` vertices (counter-clockwise seen from outside)."""
    tris = []
    seg_range = segments if closed else segments - 1
    for r in range(rings - 1):
        for s in range(seg_range):
            a = r * segments + s
            b = r * segments + (s + 1) % segments
            c = (r + 1) * segments + s
            d = (r + 1) * segments + (s + 1) % segments
            tris.append((a, c, b))
            tris.append((b, c, d))
    return np.array(tris, dtype=np.int64).reshape(-1, 3)


def tube(axis: int, coords: np.ndarray, centre: np.ndarray, radii_a: np.ndarray, radii_b: np.ndarray,
         segments: int = 16, cap_start: bool = True, cap_end: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """A tube along world axis `axis` (0 = X, 1 = Y) through rings at `coords`.

    radii_a/radii_b: semi-axes of each elliptical ring on the two other axes. The triangles face
    outward; caps are fans around a centre vertex.
    """
    others = [i for i in range(3) if i != axis]
    theta = np.linspace(0.0, 2.0 * np.pi, segments, endpoint=False)
    rings = []
    for coord, ra, rb in zip(coords, radii_a, radii_b, strict=True):
        ring = np.zeros((segments, 3))
        ring[:, axis] = coord
        ring[:, others[0]] = centre[others[0]] + ra * np.cos(theta)
        ring[:, others[1]] = centre[others[1]] + rb * np.sin(theta)
        rings.append(ring)
    pos = np.concatenate(rings)
    tris = _orient(pos, _grid_tris(len(coords), segments), lambda p: _radial(p, axis, centre))
    direction = np.zeros(3)
    direction[axis] = 1.0 if coords[-1] > coords[0] else -1.0
    extra = []
    n = len(pos)
    for which, do_cap, outward in ((0, cap_start, -direction), (len(coords) - 1, cap_end, direction)):
        if not do_cap:
            continue
        c = centre.copy()
        c[axis] = coords[which]
        idx = n + len(extra)
        extra.append(c)
        base = which * segments
        fan = np.array([(idx, base + s, base + (s + 1) % segments) for s in range(segments)])
        full = np.concatenate([pos, np.array(extra)])
        fan = _orient(full, fan, lambda p, o=outward: np.broadcast_to(o, p.shape))
        tris = np.concatenate([tris, fan])
    if extra:
        pos = np.concatenate([pos, np.array(extra)])
    return pos, tris


def _radial(points: np.ndarray, axis: int, centre: np.ndarray) -> np.ndarray:
    out = points - centre
    out[:, axis] = 0.0
    return out


def _orient(pos: np.ndarray, tris: np.ndarray, outward) -> np.ndarray:
    """Flip triangles whose normal points against `outward(centroids)`."""
    a, b, c = pos[tris[:, 0]], pos[tris[:, 1]], pos[tris[:, 2]]
    normal = np.cross(b - a, c - a)
    wrong = np.einsum("ij,ij->i", normal, outward((a + b + c) / 3.0)) < 0
    tris = tris.copy()
    tris[wrong] = tris[wrong][:, ::-1]
    return tris


def ellipsoid(centre: np.ndarray, radii: np.ndarray, n_lon: int = 16, n_lat: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lat-long ellipsoid with poles on ±Y. Returns positions, analytic normals, triangles."""
    lat = np.linspace(0.0, np.pi, n_lat + 1)[1:-1]  # exclude poles (added separately)
    lon = np.linspace(0.0, 2.0 * np.pi, n_lon, endpoint=False)
    sphere = []
    for phi in lat:
        y = np.cos(phi)
        r = np.sin(phi)
        sphere.append(np.stack([r * np.sin(lon), np.full_like(lon, y), r * np.cos(lon)], axis=1))
    unit = np.concatenate([np.array([[0.0, 1.0, 0.0]]), *sphere, np.array([[0.0, -1.0, 0.0]])])
    pos = centre + unit * radii
    nrm = unit / radii  # gradient of the implicit ellipsoid
    nrm /= np.linalg.norm(nrm, axis=1, keepdims=True)
    tris = []
    rings = len(lat)
    top, bottom = 0, len(unit) - 1
    for s in range(n_lon):
        tris.append((top, 1 + s, 1 + (s + 1) % n_lon))
    for r in range(rings - 1):
        for s in range(n_lon):
            a = 1 + r * n_lon + s
            b = 1 + r * n_lon + (s + 1) % n_lon
            c = 1 + (r + 1) * n_lon + s
            d = 1 + (r + 1) * n_lon + (s + 1) % n_lon
            tris.append((a, c, b))
            tris.append((b, c, d))
    last = 1 + (rings - 1) * n_lon
    for s in range(n_lon):
        tris.append((bottom, last + (s + 1) % n_lon, last + s))
    tris_arr = _orient(pos, np.array(tris, dtype=np.int64), lambda p: p - centre)
    return pos, nrm, tris_arr


def _profile(ts: np.ndarray, points: list[tuple[float, float]]) -> np.ndarray:
    xs, ys = zip(*points, strict=True)
    return np.interp(ts, xs, ys)


OUTFITS = ("casual", "hoodie", "dress", "suit")
# Garment pieces over the base body, and how far above it the painter's renderer must sort them
# (render.RenderMesh.layer): the tie lies on the shirt, which lies on the jacket.
GARMENT_LAYERS = {"hood": 0.01, "pocket": 0.01, "skirt": 0.01, "jacket_hem": 0.01, "shirt": 0.01, "tie": 0.02}


def build_body(spec: ChibiSpec, outfit: str = "casual") -> MeshData:
    """Everything but the head: torso, neck, arms, hands, legs, feet, in one of OUTFITS.

    casual: a T-shirt (the top colour) and trousers (the bottom colour).
    hoodie: long sleeves, a hood lying on the shoulders and a front pocket.
    dress:  a one-piece dress in the top colour, its skirt flaring to the knees over leggings.
    suit:   a jacket with long sleeves and a hem over the hips, a shirt front and a tie.
    """
    if outfit not in OUTFITS:
        raise ValueError(f"unknown outfit {outfit!r}")
    h, w = spec.head_height, spec.width
    j = spec.joints()
    mb = MeshBuilder()
    torso_chain = [["hips", -1e9], ["spine", float(j["spine"][1])], ["chest", float(j["chest"][1])], ["neck", float(j["neck"][1])]]
    blend = 0.05 * h

    # Torso in two colours: trousers below the waist, the top above it.
    crotch, waist, neck_base = spec.y(0.4), spec.y(0.62), spec.y(0.97)
    shoulder_top = spec.y(0.9)
    def section(ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = (ys - crotch) / (neck_base - crotch)
        a = _profile(t, [(0, 0.17), (0.05, 0.25), (0.2, 0.27), (0.45, 0.24), (0.75, 0.27), (0.88, 0.25), (1.0, 0.1)]) * h * w
        b = _profile(t, [(0, 0.12), (0.05, 0.17), (0.2, 0.19), (0.45, 0.17), (0.75, 0.19), (0.88, 0.17), (1.0, 0.08)]) * h * w
        return a, b
    lower = mb.add_part(Part("torso_lower", "bottom", {"axis": 1, "chain": torso_chain, "blend": blend}))
    ys = np.linspace(crotch, waist, 6)
    ra, rb = section(ys)
    pos, tris = tube(1, ys, np.zeros(3), ra, rb, segments=20, cap_start=True, cap_end=False)
    mb.add(pos, None, None, tris, lower)
    upper = mb.add_part(Part("torso_upper", "top", {"axis": 1, "chain": torso_chain, "blend": blend}))
    ys = np.concatenate([np.linspace(waist, shoulder_top, 7), np.linspace(shoulder_top, neck_base, 4)[1:]])
    ra, rb = section(ys)
    pos, tris = tube(1, ys, np.zeros(3), ra, rb, segments=20, cap_start=False, cap_end=True)
    mb.add(pos, None, None, tris, upper)

    neck = mb.add_part(Part("neck", "skin", {"axis": 1, "chain": [["chest", -1e9], ["neck", float(j["neck"][1])], ["head", float(j["head"][1]) + 0.03 * h]], "blend": 0.03 * h}))
    ys = np.linspace(spec.y(0.9), spec.body_height + 0.18 * h, 5)
    r = np.full(len(ys), 0.085 * h * w)
    pos, tris = tube(1, ys, np.zeros(3), r, r * 0.9, segments=14)
    mb.add(pos, None, None, tris, neck)

    for side, sign in (("left", 1.0), ("right", -1.0)):
        shoulder, elbow, wrist = j[f"{side}UpperArm"], j[f"{side}LowerArm"], j[f"{side}Hand"]
        chain = [[f"{side}UpperArm", -1e9], [f"{side}LowerArm", float(elbow[0])], [f"{side}Hand", float(wrist[0])]]
        if sign < 0:  # along -X the chain runs in decreasing coordinates
            chain = [[f"{side}UpperArm", 1e9], [f"{side}LowerArm", float(elbow[0])], [f"{side}Hand", float(wrist[0])]]
        skin = {"axis": 0, "chain": chain, "blend": 0.04 * h, "descending": sign < 0}
        arm = mb.add_part(Part(f"{side}_upper_arm", "top", skin))
        xs = np.linspace(sign * 0.12 * h * w, float(elbow[0]), 6)
        t = np.linspace(0, 1, len(xs))
        ra = spec.limb_radius("arm") * _profile(t, [(0, 1.25), (0.3, 1.05), (1, 1.0)])
        pos, tris = tube(0, xs, shoulder, ra, ra, segments=12)
        mb.add(pos, None, None, tris, arm)
        long_sleeves = outfit in ("hoodie", "suit")
        fore = mb.add_part(Part(f"{side}_lower_arm", "top" if long_sleeves else "skin", skin))
        xs = np.linspace(float(elbow[0]), float(wrist[0]) + sign * 0.01 * h, 5)
        ra = np.linspace(spec.limb_radius("forearm"), spec.limb_radius("forearm") * 0.85, len(xs))
        pos, tris = tube(0, xs, elbow, ra, ra, segments=12)
        mb.add(pos, None, None, tris, fore)
        hand = mb.add_part(Part(f"{side}_hand", "skin", {"rigid": f"{side}Hand"}))
        centre = wrist + np.array([sign * 0.075 * h, 0.0, 0.0])
        pos, nrm, tris = ellipsoid(centre, np.array([0.085, 0.07, 0.05]) * h * w, 12, 8)
        mb.add(pos, nrm, None, tris, hand)

        hip, knee, ankle = j[f"{side}UpperLeg"], j[f"{side}LowerLeg"], j[f"{side}Foot"]
        leg_chain = [[f"{side}UpperLeg", 1e9], [f"{side}LowerLeg", float(knee[1])], [f"{side}Foot", float(ankle[1])]]
        leg_skin = {"axis": 1, "chain": leg_chain, "blend": 0.04 * h, "descending": True}
        thigh = mb.add_part(Part(f"{side}_upper_leg", "bottom", leg_skin))
        ys = np.linspace(float(hip[1]) + 0.04 * h, float(knee[1]), 5)
        t = np.linspace(0, 1, len(ys))
        ra = spec.limb_radius("leg") * _profile(t, [(0, 1.15), (0.5, 1.0), (1, 0.95)])
        pos, tris = tube(1, ys, hip, ra, ra * 0.95, segments=14)
        mb.add(pos, None, None, tris, thigh)
        shin = mb.add_part(Part(f"{side}_lower_leg", "bottom", leg_skin))
        ys = np.linspace(float(knee[1]), float(ankle[1]) - 0.02 * h, 5)
        ra = spec.limb_radius("shin") * _profile(np.linspace(0, 1, len(ys)), [(0, 1.05), (1, 0.9)])
        pos, tris = tube(1, ys, knee, ra, ra * 0.95, segments=14)
        mb.add(pos, None, None, tris, shin)
        foot = mb.add_part(Part(f"{side}_foot", "shoes", {"rigid": f"{side}Foot"}))
        radii = np.array([0.12, 0.085, 0.19]) * h * w
        radii[1] = min(radii[1], float(ankle[1]) * 0.9)
        centre = np.array([float(ankle[0]), radii[1], 0.06 * h])
        pos, nrm, tris = ellipsoid(centre, radii, 14, 8)
        pos[:, 1] = np.maximum(pos[:, 1], 0.0)  # flat soles exactly on Y=0
        mb.add(pos, nrm, None, tris, foot)
    _add_outfit(mb, spec, outfit, section, torso_chain, blend)
    return mb.build()


def _front(section, y: float) -> float:
    """Z of the torso's front surface at height y."""
    return float(section(np.array([y]))[1][0])


def _add_outfit(mb: MeshBuilder, spec: ChibiSpec, outfit: str, section, torso_chain: list, blend: float) -> None:
    """The garment pieces over the base body. Closed shapes (ellipsoids, capped tubes) only, so
    every piece looks solid from any side with single-sided materials."""
    h, w = spec.head_height, spec.width
    j = spec.joints()
    crotch, waist, neck_base = spec.y(0.4), spec.y(0.62), spec.y(0.97)
    if outfit == "hoodie":
        # The hood lies folded on the shoulders behind the neck; the pocket sits on the belly.
        hood = mb.add_part(Part("hood", "top_dark", {"rigid": "chest"}))
        centre = np.array([0.0, neck_base - 0.03 * h, -0.13 * h * w])
        pos, nrm, tris = ellipsoid(centre, np.array([0.2, 0.085, 0.11]) * h * w, 18, 10)
        mb.add(pos, nrm, None, tris, hood)
        pocket = mb.add_part(Part("pocket", "top_dark", {"rigid": "spine"}))
        y = waist + 0.2 * (neck_base - waist)
        centre = np.array([0.0, y, _front(section, y) - 0.012 * h])
        pos, nrm, tris = ellipsoid(centre, np.array([0.15, 0.065, 0.03]) * h * w, 16, 8)
        mb.add(pos, nrm, None, tris, pocket)
    elif outfit == "dress":
        # The skirt flares from the waist to just above the knees; closed at the hem so that it
        # reads as cloth, not as an empty cone, from below.
        skirt = mb.add_part(Part("skirt", "top", {"rigid": "hips"}))
        knee = float(j["leftLowerLeg"][1])
        ys = np.linspace(waist, knee + 0.06 * h, 6)
        ra0, rb0 = section(np.array([waist]))
        t = np.linspace(0.0, 1.0, len(ys))
        ra = ra0[0] * 1.04 + t**1.3 * 0.2 * h * w
        rb = rb0[0] * 1.05 + t**1.3 * 0.13 * h * w
        pos, tris = tube(1, ys, np.zeros(3), ra, rb, segments=24, cap_start=False, cap_end=True)
        mb.add(pos, None, None, tris, skirt)
    elif outfit == "suit":
        # The jacket's hem covers the hips; a white shirt front and a tie on the chest.
        hem = mb.add_part(Part("jacket_hem", "top", {"axis": 1, "chain": torso_chain, "blend": blend}))
        ys = np.linspace(waist + 0.02 * h, crotch + 0.03 * h, 4)
        ra, rb = section(ys)
        pos, tris = tube(1, ys, np.zeros(3), ra * 1.07, rb * 1.09, segments=20, cap_start=False, cap_end=True)
        mb.add(pos, None, None, tris, hem)
        y = neck_base - 0.32 * (neck_base - waist)
        shirt = mb.add_part(Part("shirt", "white", {"rigid": "chest"}))
        centre = np.array([0.0, y, _front(section, y) - 0.015 * h])
        pos, nrm, tris = ellipsoid(centre, np.array([0.1, 0.16, 0.03]) * h * w, 14, 10)
        mb.add(pos, nrm, None, tris, shirt)
        tie = mb.add_part(Part("tie", "bottom", {"rigid": "chest"}))
        centre = np.array([0.0, y - 0.02 * h, _front(section, y) + 0.008 * h])
        pos, nrm, tris = ellipsoid(centre, np.array([0.024, 0.13, 0.02]) * h * w, 10, 10)
        mb.add(pos, nrm, None, tris, tie)
