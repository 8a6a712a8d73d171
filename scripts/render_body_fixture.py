"""Render tests/browser/fixtures/body_wave.mjpeg, the body-tracking fake camera: the Godette VRM
(CC-BY 3.0, ../shared/fixtures/vrm; docs/licenses.md) posed by known arm angles in headless
Chromium (three.js + three-vrm), 640x480, 30 fps, 5 s: 2 s arms down, 3 s left hand raised
(elbow bent 95 degrees). The angles go to body_wave.json beside it.

    python scripts/render_body_fixture.py      (needs `npm run build`'s node_modules, Chromium)
"""
from __future__ import annotations

import json
import sys

from fixture_page import OUT, run_tool, write_mjpeg

from tests.browser import harness


def main() -> int:
    result = run_tool("render_body_fixture.mjs", "renderFixture", "window.renderFixture('model.vrm', 640, 480)", {"model.vrm": harness.GODETTE})
    out = write_mjpeg("body_wave.mjpeg", result["frames"])
    meta = {
        "about": "Godette (CC-BY 3.0, (C) SirRichard94, VRM adaptation (C) 2021 Lyuma) posed by known angles; "
        "rendered by scripts/render_body_fixture.py. Angles in radians; the left arm is the model's left "
        "(the image's right). elevation: upper arm above horizontal; forward: towards the camera; flex: elbow.",
        "fps": 30,
        "size": [640, 480],
        "phases": result["phases"],
    }
    (OUT / "body_wave.json").write_text(json.dumps(meta, indent=1) + "\n")
    sys.stdout.write(f"wrote {len(result['frames'])} frames to {out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
