"""Hair as real geometry: a cap over the skull cut along a style's hairline (with a jagged fringe)
and tapered locks hanging from it, each lock a chain of joints that VRMC_springBone swings.

Styles: short (locks to the ears), bob (to the jaw), long (past the shoulders), ponytail (a short
cap and one thick tail at the back). The cap is skinned rigidly to the head; each lock's vertices
blend between the joints of its chain. Joint indices in `joints` count from `first_joint`
(the first index after the humanoid bones in the skin's joint list).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import atlas
from .geometry import MeshBuilder, MeshData, Part, _orient, ellipsoid, vertex_normals
from .spec import BONE_INDEX, ChibiSpec

SEGMENTS = 3  # joints per lock that move (plus a tail joint at the tip)
RINGS_PER_SEGMENT, RING = 3, 6


@dataclass(frozen=True)
class Lock:
    angle: float  # around the head from the front (radians, + towards the avatar's left)
    height: float  # root height on the unit head (-1 chin .. 1 crown)
    length: float  # in head heights
    width: float  # root width in head heights


# Cap bottom (unit-head y) at the front (above the brows), the sides and the back, per style.
CAP = {"short": (0.3, -0.15, -0.5), "bob": (0.3, -0.55, -0.85), "long": (0.3, -0.6, -0.95), "ponytail": (0.45, -0.1, -0.45)}
LOCKS: dict[str, tuple[Lock, ...]] = {
    "short": (Lock(1.05, 0.1, 0.32, 0.16), Lock(-1.05, 0.1, 0.32, 0.16), Lock(2.5, -0.1, 0.3, 0.2), Lock(-2.5, -0.1, 0.3, 0.2)),
    "bob": (Lock(1.0, 0.1, 0.62, 0.18), Lock(-1.0, 0.1, 0.62, 0.18), Lock(1.8, 0.0, 0.62, 0.22), Lock(-1.8, 0.0, 0.62, 0.22),
            Lock(2.7, -0.2, 0.5, 0.24), Lock(-2.7, -0.2, 0.5, 0.24)),
    "long": (Lock(1.0, 0.1, 1.15, 0.18), Lock(-1.0, 0.1, 1.15, 0.18), Lock(1.9, 0.0, 1.3, 0.24), Lock(-1.9, 0.0, 1.3, 0.24),
             Lock(2.7, -0.2, 1.4, 0.28), Lock(-2.7, -0.2, 1.4, 0.28)),
    "ponytail": (Lock(1.05, 0.15, 0.5, 0.14), Lock(-1.05, 0.15, 0.5, 0.14), Lock(np.pi, 0.35, 1.2, 0.3)),
}
CAP_SCALE = np.array([1.07, 1.08, 1.09])


@dataclass
class Hair:
    mesh: MeshData
    joints: np.ndarray  # (N, 4) uint8, skin joint indices
    weights: np.ndarray  # (N, 4) float32
    bones: list[tuple[str, str, np.ndarray]]  # (joint name, parent name, world position), parents first
    chains: list[list[str]]  # each lock's joints, root to tip (the tip joint moves no vertex)
    collider: tuple[float, float] = (0.0, 0.0)  # head sphere: offset above the head joint, radius


def _cap_bottom(style: str, fringe: bool, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    front, side, back = CAP[style]
    if not fringe:
        front = 0.42
    a = np.abs(theta)
    # front -> side between 0.75 and 1.35 rad, side -> back between 1.9 and 2.8 rad
    t1 = np.clip((a - 0.75) / 0.6, 0, 1)
    t2 = np.clip((a - 1.9) / 0.9, 0, 1)
    bottom = front + (side - front) * (t1 * t1 * (3 - 2 * t1))
    bottom = bottom + (back - bottom) * (t2 * t2 * (3 - 2 * t2))
    if fringe:  # anime bangs: the front edge in points
        spikes = np.abs(np.sin(x * 9.0))
        bottom = bottom + np.where(a < 0.9, -0.12 * (1 - spikes) + 0.06, 0.0)
    return bottom


def build_hair(spec: ChibiSpec, style: str, fringe: bool, first_joint: int) -> Hair:
    mb = MeshBuilder()
    centre = spec.head_center + np.array([0.0, 0.01 * spec.head_height, -0.012 * spec.head_height])
    radii = spec.head_radii * CAP_SCALE
    pos, nrm, tris = ellipsoid(centre, radii, n_lon=56, n_lat=36)
    unit = (pos - centre) / radii
    theta = np.arctan2(unit[:, 0], unit[:, 2])
    keep_vertex = unit[:, 1] >= _cap_bottom(style, fringe, theta, unit[:, 0])
    keep = keep_vertex[tris].all(axis=1)
    used, local = np.unique(tris[keep], return_inverse=True)
    cap_part = mb.add_part(Part("hair_cap", "hair", {"rigid": "head"}))
    mb.add(pos[used], nrm[used], None, local.reshape(-1, 3), cap_part)
    cap_count = mb.count

    bones: list[tuple[str, str, np.ndarray]] = []
    chains: list[list[str]] = []
    vertex_joint: list[np.ndarray] = []  # per lock vertex: (lower joint, upper joint, blend)
    h = spec.head_height
    for index, lock in enumerate(LOCKS[style]):
        out = np.array([np.sin(lock.angle), 0.0, np.cos(lock.angle)])
        on_head = np.array([np.sin(lock.angle) * np.sqrt(1 - lock.height**2), lock.height, np.cos(lock.angle) * np.sqrt(1 - lock.height**2)])
        root = centre + on_head * radii * 0.98
        direction = np.array([0.0, -1.0, 0.0]) + 0.22 * out
        direction /= np.linalg.norm(direction)
        length = lock.length * h
        names = [f"hair{index}_{j}" for j in range(SEGMENTS + 1)]
        parent = "head"
        for j, name in enumerate(names):
            bones.append((name, parent, root + direction * length * j / SEGMENTS))
            parent = name
        chains.append(names)
        # the lock: rings of an ellipse (wide across the head, thin outward), tapering to a point
        across = np.cross(direction, out)
        across /= np.linalg.norm(across)
        depth = np.cross(across, direction)
        n_rings = SEGMENTS * RINGS_PER_SEGMENT + 1
        phi = np.linspace(0.0, 2 * np.pi, RING, endpoint=False)
        rings, ts = [], []
        for r in range(n_rings):
            t = r / (n_rings - 1)
            width = lock.width * h * 0.85 * (1.0 - 0.85 * t**1.3)
            bend = depth * (0.08 * length * np.sin(np.pi * t))  # a gentle outward curve
            point = root + direction * length * t + bend
            rings.append(point + np.outer(np.cos(phi), across * width) + np.outer(np.sin(phi), depth * width * 0.35))
            ts.append(np.full(RING, t))
        tip = root + direction * length * 1.03
        lock_pos = np.concatenate(rings + [tip[None, :]])
        lock_t = np.concatenate(ts + [[1.0]])
        lock_tris = []
        for r in range(n_rings - 1):
            for k in range(RING):
                a, b = r * RING + k, r * RING + (k + 1) % RING
                c, d = a + RING, b + RING
                lock_tris += [(a, c, b), (b, c, d)]
        last = (n_rings - 1) * RING
        lock_tris += [(last + k, len(lock_pos) - 1, last + (k + 1) % RING) for k in range(RING)]
        def outward(p, root=root, direction=direction, length=length, depth=depth):
            t = np.clip((p - root) @ direction / length, 0.0, 1.0)
            axis = root + np.outer(t, direction * length) + np.outer(0.08 * length * np.sin(np.pi * t), depth)
            return p - axis

        oriented = _orient(lock_pos, np.array(lock_tris), outward)
        part = mb.add_part(Part(f"hair_lock{index}", "hair", {"chain": names}))
        mb.add(lock_pos, vertex_normals(lock_pos, oriented), None, oriented, part)
        seg = np.clip(lock_t * SEGMENTS, 0, SEGMENTS - 1e-6)
        vertex_joint.append(np.stack([np.full(len(lock_t), len(bones) - SEGMENTS - 1), seg], axis=1))
    mesh = mb.build()

    joints = np.zeros((mesh.vertex_count, 4), np.uint8)
    weights = np.zeros((mesh.vertex_count, 4), np.float32)
    joints[:cap_count, 0] = BONE_INDEX["head"]
    weights[:cap_count, 0] = 1.0
    start = cap_count
    for info in vertex_joint:
        count = len(info)
        base = info[:, 0].astype(int)  # index in `bones` of the lock's first joint
        seg = info[:, 1]
        lower = np.floor(seg).astype(int)
        # blend towards the next joint over the second half of each segment: bends stay smooth
        blend = np.clip((seg - lower - 0.5) * 2.0, 0.0, 1.0).astype(np.float32)
        upper = np.minimum(lower + 1, SEGMENTS - 1)
        joints[start : start + count, 0] = first_joint + base + lower
        joints[start : start + count, 1] = np.where(upper != lower, first_joint + base + upper, 0)
        weights[start : start + count, 0] = np.where(upper != lower, 1.0 - blend, 1.0)
        weights[start : start + count, 1] = np.where(upper != lower, blend, 0.0)
        start += count
    weights[:, 0] = 1.0 - weights[:, 1:].sum(axis=1)  # exactly one in float32
    fix = weights[:, 1] == 0
    joints[fix, 1] = 0
    collider = (float(spec.head_center[1] - spec.joints()["head"][1]), float(0.92 * spec.head_radii.min()))
    return Hair(mesh=mesh, joints=joints, weights=weights, bones=bones, chains=chains, collider=collider)


def hair_uv() -> tuple[float, float]:
    return atlas.swatch_uv("hair")
