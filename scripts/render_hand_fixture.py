"""Render tests/browser/fixtures/hand_curls.mjpeg, the finger-tracking camera fixture: a close-up
of a left hand built from known finger curls (frontend/tests/tools/render_hand_fixture.mjs; the
geometry of frontend/tests/fakes/skeleton.mjs handPoints, drawn by three.js), 640x480, 30 fps,
four poses of 15 frames: open, half closed, pointing, fist. The curls go to hand_curls.json.
The body fixture's Godette has mitten hands too small for MediaPipe hands; this hand is found
in every frame.

    python scripts/render_hand_fixture.py      (needs node_modules and Chromium)
"""
from __future__ import annotations

import base64
import json
import subprocess
import sys
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.browser import harness  # noqa: E402

OUT = ROOT / "tests" / "browser" / "fixtures"


def main() -> int:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        www = Path(tmp)
        subprocess.run(
            [str(ROOT / "node_modules" / ".bin" / "esbuild"), str(ROOT / "frontend/tests/tools/render_hand_fixture.mjs"),
             "--bundle", "--format=esm", f"--outfile={www / 'tool.js'}"],
            check=True, cwd=ROOT,
        )  # fmt: skip
        (www / "index.html").write_text('<!doctype html><body><script type="module" src="tool.js"></script></body>')
        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(www)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as p:
                browser = harness.launch_chromium(p)
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
                page.wait_for_function("() => typeof window.renderHandFixture === 'function'")
                result = page.evaluate("() => window.renderHandFixture(640, 480)")
                browser.close()
        finally:
            server.shutdown()
    with open(OUT / "hand_curls.mjpeg", "wb") as f:
        for url in result["frames"]:
            f.write(base64.b64decode(url.split(",", 1)[1]))
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
    sys.stdout.write(f"wrote {len(result['frames'])} frames to {OUT / 'hand_curls.mjpeg'}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
