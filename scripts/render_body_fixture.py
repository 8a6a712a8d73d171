"""Render tests/browser/fixtures/body_wave.mjpeg, the body-tracking fake camera: the Godette VRM
(CC-BY 3.0, ../shared/fixtures/vrm; docs/licenses.md) posed by known arm angles in headless
Chromium (three.js + three-vrm), 640x480, 30 fps, 5 s: 2 s arms down, 3 s left hand raised
(elbow bent 95 degrees). The angles go to body_wave.json beside it.

    python scripts/render_body_fixture.py      (needs `npm run build`'s node_modules, Chromium)
"""
from __future__ import annotations

import base64
import json
import shutil
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
            [str(ROOT / "node_modules" / ".bin" / "esbuild"), str(ROOT / "frontend/tests/tools/render_body_fixture.mjs"),
             "--bundle", "--format=esm", f"--outfile={www / 'tool.js'}"],
            check=True, cwd=ROOT,
        )  # fmt: skip
        shutil.copy(harness.GODETTE, www / "model.vrm")
        (www / "index.html").write_text('<!doctype html><body><script type="module" src="tool.js"></script></body>')
        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(www)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as p:
                browser = harness.launch_chromium(p)
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
                page.wait_for_function("() => typeof window.renderFixture === 'function'")
                result = page.evaluate("() => window.renderFixture('model.vrm', 640, 480)")
                browser.close()
        finally:
            server.shutdown()
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "body_wave.mjpeg", "wb") as f:
        for url in result["frames"]:
            f.write(base64.b64decode(url.split(",", 1)[1]))
    meta = {
        "about": "Godette (CC-BY 3.0, (C) SirRichard94, VRM adaptation (C) 2021 Lyuma) posed by known angles; "
        "rendered by scripts/render_body_fixture.py. Angles in radians; the left arm is the model's left "
        "(the image's right). elevation: upper arm above horizontal; forward: towards the camera; flex: elbow.",
        "fps": 30,
        "size": [640, 480],
        "phases": result["phases"],
    }
    (OUT / "body_wave.json").write_text(json.dumps(meta, indent=1) + "\n")
    sys.stdout.write(f"wrote {len(result['frames'])} frames to {OUT / 'body_wave.mjpeg'}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
