"""A tiny orthographic front-view renderer for previews and the VRM thumbnail (no GPU, no GL).

Triangles are painted back to front into an id buffer (OpenCV polygon fills); each pixel then takes
its triangle's flat-shaded swatch colour, except on the face, where the face texture is warped onto
the screen in one affine step. That is exact because the face UVs are a planar front projection.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import atlas

LIGHT = np.array([-0.35, 0.45, 0.82])
LIGHT = LIGHT / np.linalg.norm(LIGHT)


def _cel(light: np.ndarray) -> np.ndarray:
    """Two-tone cel shading (lit 1.0, shadow 0.82, a little light on top), with a narrow soft
    edge between the tones instead of a hard step."""
    lit = np.clip((light - 0.32) / 0.06, 0.0, 1.0)
    return (0.82 + 0.18 * lit) * (0.85 + 0.15 * light)


@dataclass
class RenderMesh:
    positions: np.ndarray
    normals: np.ndarray
    uvs: np.ndarray
    indices: np.ndarray
    # Painter's-order bias per vertex (added to depth): overlays that float millimetres above a
    # curved surface must sort by layer, not by their z, which the curvature dominates.
    layer: np.ndarray | None = None


def render_front(
    meshes: list[RenderMesh],
    texture: np.ndarray,
    *,
    size: tuple[int, int],
    region: tuple[float, float, float, float],
    face_plane: tuple[np.ndarray, np.ndarray] | None = None,
    background: tuple[int, int, int] = (240, 238, 248),
    bones: list[tuple[np.ndarray, np.ndarray]] | None = None,
) -> np.ndarray:
    """RGB image of the meshes seen from +Z.

    region: (x_min, x_max, y_min, y_max) in metres mapped to the image. face_plane: (centre, radii)
    of the head ellipsoid, whose planar face UVs make the face texture an affine warp.
    """
    width, height = size
    x0, x1, y0, y1 = region
    scale = min(width / (x1 - x0), height / (y1 - y0))
    ox = (width - (x1 - x0) * scale) / 2.0
    oy = (height - (y1 - y0) * scale) / 2.0

    def project(p: np.ndarray) -> np.ndarray:
        return np.stack([ox + (p[..., 0] - x0) * scale, oy + (y1 - p[..., 1]) * scale], axis=-1)

    tri_screen, tri_depth, tri_colour, tri_face = [], [], [], []
    tex_h, tex_w = texture.shape[:2]
    for mesh in meshes:
        tris = mesh.indices.reshape(-1, 3)
        p = mesh.positions[tris]  # (T, 3, 3)
        normal = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
        # Back-face culling (the view looks down -Z); zero-area triangles (closed overlays) draw nothing.
        visible = normal[:, 2] > 1e-9
        tris, p = tris[visible], p[visible]
        n = mesh.normals[tris].mean(axis=1)
        n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-9)
        shade = _cel(np.clip(n @ LIGHT, 0.0, 1.0))
        uv = mesh.uvs[tris].mean(axis=1)
        px = np.clip((uv[:, 0] * tex_w).astype(int), 0, tex_w - 1)
        py = np.clip((uv[:, 1] * tex_h).astype(int), 0, tex_h - 1)
        colour = texture[py, px].astype(np.float64) * shade[:, None]
        is_face = (mesh.uvs[tris][:, :, 0] < atlas.FACE_SIZE / atlas.ATLAS_W).all(axis=1)
        tri_screen.append(project(p))
        depth = p[:, :, 2].mean(axis=1)
        if mesh.layer is not None:
            depth = depth + mesh.layer[tris].mean(axis=1)
        tri_depth.append(depth)
        tri_colour.append(np.concatenate([colour, shade[:, None]], axis=1))
        tri_face.append(is_face)
    screen = np.concatenate(tri_screen)
    depth = np.concatenate(tri_depth)
    colour = np.concatenate(tri_colour)
    face = np.concatenate(tri_face)

    ids = np.full((height, width), -1, dtype=np.int32)
    for t in np.argsort(depth):
        cv2.fillConvexPoly(ids, np.rint(screen[t] * 4).astype(np.int32), int(t), lineType=cv2.LINE_8, shift=2)
    image = np.empty((height, width, 3), dtype=np.float64)
    image[:] = background
    hit = ids >= 0
    image[hit] = colour[ids[hit], :3]

    if face_plane is not None and face.any():
        centre, radii = face_plane
        face_tex = texture[:, : atlas.FACE_SIZE]
        # Face pixel (u, v) in 0..FACE_SIZE lies at x = cx + (u/S - 0.5) * 2 rx, y = cy - (v/S - 0.5) * 2 ry.
        s = float(atlas.FACE_SIZE)
        ax = 2.0 * radii[0] / s * scale
        ay = 2.0 * radii[1] / s * scale
        tx = ox + (centre[0] - radii[0] - x0) * scale
        ty = oy + (y1 - centre[1] - radii[1]) * scale
        matrix = np.array([[ax, 0.0, tx], [0.0, ay, ty]])
        warped = cv2.warpAffine(face_tex, matrix, (width, height), flags=cv2.INTER_AREA if ax < 1 else cv2.INTER_LINEAR)
        face_pixels = hit & face[np.maximum(ids, 0)]
        # Shaded per pixel from the ellipsoid's own normal: one shade per triangle drew the cel
        # shadow's edge across the cheek as a staircase of triangles.
        rows, cols = np.nonzero(face_pixels)
        u = (x0 + (cols - ox) / scale - centre[0]) / radii[0]
        v = (y1 - (rows - oy) / scale - centre[1]) / radii[1]
        w = np.sqrt(np.clip(1.0 - u * u - v * v, 0.0, 1.0))
        normal = np.stack([u / radii[0], v / radii[1], w / radii[2]], axis=1)
        normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-9)
        shade = _cel(np.clip(normal @ LIGHT, 0.0, 1.0))
        image[face_pixels] = warped[face_pixels].astype(np.float64) * shade[:, None]

    out = np.clip(image, 0, 255).astype(np.uint8)
    if bones:
        for a, b in bones:
            pa, pb = project(np.asarray(a)), project(np.asarray(b))
            cv2.line(out, tuple(int(v) for v in pa), tuple(int(v) for v in pb), (40, 30, 90), 2, cv2.LINE_AA)
            cv2.circle(out, tuple(int(v) for v in pa), 3, (230, 60, 90), -1, cv2.LINE_AA)
    return out
