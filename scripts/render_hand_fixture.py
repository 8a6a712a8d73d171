"""Render tests/browser/fixtures/hand_curls.mjpeg, the finger-tracking camera fixture: a close-up
of a left hand built from known finger curls (frontend/tests/tools/render_hand_fixture.mjs; the
geometry of frontend/tests/fakes/skeleton.mjs handPoints, drawn by three.js), 640x480, 30 fps,
four poses of 15 frames: open, half closed, pointing, fist. The curls go to hand_curls.json.
The body fixture's Godette has mitten hands too small for MediaPipe hands; this hand is found
in every frame.

    python scripts/render_hand_fixture.py      (needs node_modules and Chromium)
"""
from __future__ import annotations

import json
import sys

from fixture_page import OUT, run_tool, write_mjpeg


def main() -> int:
    result = run_tool("render_hand_fixture.mjs", "renderHandFixture", "window.renderHandFixture(640, 480)")
    out = write_mjpeg("hand_curls.mjpeg", result["frames"])
    meta = {
        "about": "A left hand built from known finger curls (no model, no photo: capsules on the landmark "
        "geometry of frontend/tests/fakes/skeleton.mjs), rendered by scripts/render_hand_fixture.py. "
        "curls: per finger (thumb, index, middle, ring, little) the three joint angles in radians, "
        "towards the palm. Palm to the camera, fingers up, turned `yaw` radians about the vertical.",
        "fps": 30,
        "size": [640, 480],
        "yaw": result["yaw"],
        "poses": result["poses"],
    }
    (OUT / "hand_curls.json").write_text(json.dumps(meta, indent=1) + "\n")
    sys.stdout.write(f"wrote {len(result['frames'])} frames to {out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
