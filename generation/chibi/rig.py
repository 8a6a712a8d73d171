"""Skeleton, skin weights and linear-blend skinning (for previews and checks)."""
from __future__ import annotations

import numpy as np

from .geometry import MeshData
from .spec import BONE_INDEX, BONE_NAMES, BONES, ChibiSpec

WEIGHT_STEPS = 256  # weights are multiples of 1/256: exact in float32, so every sum is exactly 1


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def skin_weights(mesh: MeshData) -> tuple[np.ndarray, np.ndarray]:
    """JOINTS_0 (uint8, N x 4) and WEIGHTS_0 (float32, N x 4) from each part's skinning rule.

    Chains blend two neighbouring bones over `blend` metres around each joint; unused slots hold
    joint 0 with weight 0, as glTF validators expect.
    """
    n = mesh.vertex_count
    joints = np.zeros((n, 4), dtype=np.uint8)
    weights = np.zeros((n, 4), dtype=np.float32)
    for index, part in enumerate(mesh.parts):
        sel = np.nonzero(mesh.vertex_part == index)[0]
        if not len(sel):
            continue
        rule = part.skin
        if "rigid" in rule:
            joints[sel, 0] = BONE_INDEX[rule["rigid"]]
            weights[sel, 0] = 1.0
            continue
        coord = mesh.positions[sel, rule["axis"]].astype(np.float64)
        chain = [(BONE_INDEX[b], float(start)) for b, start in rule["chain"]]
        if rule.get("descending"):
            coord = -coord
            chain = [(b, -start) for b, start in chain]
        width = float(rule["blend"])
        starts = np.array([start for _b, start in chain])
        segment = np.clip(np.searchsorted(starts, coord, side="right") - 1, 0, len(chain) - 1)
        primary = np.array([chain[k][0] for k in segment])
        q_next = np.zeros(len(sel), dtype=np.int64)
        q_prev = np.zeros(len(sel), dtype=np.int64)
        # Blend toward the next bone just below its joint and from the previous one just above.
        for k in range(1, len(chain)):
            c = starts[k]
            alpha = _smoothstep((coord - (c - width)) / (2.0 * width))
            q = np.rint(alpha * WEIGHT_STEPS).astype(np.int64)
            below = (segment == k - 1) & (coord > c - width)
            above = (segment == k) & (coord < c + width)
            q_next[below] = q[below]
            q_prev[above] = WEIGHT_STEPS - q[above]
        for row, vid in enumerate(sel):
            k = segment[row]
            slots: list[tuple[int, int]] = []
            main = WEIGHT_STEPS - q_next[row] - q_prev[row]
            if main > 0:
                slots.append((int(primary[row]), int(main)))
            if q_next[row] > 0 and k + 1 < len(chain):
                slots.append((chain[k + 1][0], int(q_next[row])))
            if q_prev[row] > 0 and k >= 1:
                slots.append((chain[k - 1][0], int(q_prev[row])))
            total = sum(w for _j, w in slots)
            if total != WEIGHT_STEPS:  # clamp rounding at chain ends onto the main bone
                slots = [(int(primary[row]), WEIGHT_STEPS)]
            slots.sort(key=lambda s: -s[1])
            for slot, (j, w) in enumerate(slots[:4]):
                joints[vid, slot] = j
                weights[vid, slot] = w / WEIGHT_STEPS
    return joints, weights


def local_translations(spec: ChibiSpec) -> dict[str, np.ndarray]:
    """Each bone's offset from its parent (the glTF node translation; rotations are identity)."""
    joints = spec.joints()
    out = {}
    for name, parent in BONES:
        out[name] = joints[name] - (joints[parent] if parent else 0.0)
    return out


def inverse_bind_matrices(spec: ChibiSpec) -> np.ndarray:
    """Column-major 4x4 per joint: translate by minus the joint's world position."""
    joints = spec.joints()
    mats = np.zeros((len(BONE_NAMES), 4, 4), dtype=np.float32)
    for i, name in enumerate(BONE_NAMES):
        m = np.eye(4)
        m[:3, 3] = -joints[name]
        mats[i] = m.T  # glTF stores column-major
    return mats


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    x, y, z, w = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def pose_matrices(spec: ChibiSpec, rotations: dict[str, np.ndarray]) -> np.ndarray:
    """Skinning matrices (world * inverse bind) for local rotations given as quaternions (x, y, z, w)."""
    joints = spec.joints()
    local = local_translations(spec)
    world: dict[str, np.ndarray] = {}
    out = np.zeros((len(BONE_NAMES), 4, 4))
    for i, (name, parent) in enumerate(BONES):
        m = np.eye(4)
        m[:3, :3] = quat_to_matrix(rotations.get(name, np.array([0.0, 0.0, 0.0, 1.0])))
        m[:3, 3] = local[name]
        world[name] = (world[parent] @ m) if parent else m
        inv = np.eye(4)
        inv[:3, 3] = -joints[name]
        out[i] = world[name] @ inv
    return out


def skin_positions(positions: np.ndarray, joints: np.ndarray, weights: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """Linear blend skinning on the CPU (previews and tests)."""
    homo = np.concatenate([positions.astype(np.float64), np.ones((len(positions), 1))], axis=1)
    out = np.zeros((len(positions), 3))
    for slot in range(4):
        w = weights[:, slot].astype(np.float64)
        m = matrices[joints[:, slot]]
        out += w[:, None] * np.einsum("nij,nj->ni", m, homo)[:, :3]
    return out
