"""Parametric chibi avatar: body proportions, geometry, face rig, skinning, clips and a VRM 1.0 writer.

Pure numpy/Pillow code with no Django imports, so it can be benchmarked and reused by any backend.
Coordinates follow VRM 1.0: metres, +Y up, the avatar faces +Z, feet on Y=0, arms along ±X
(T-pose), the avatar's left side is +X.
"""
