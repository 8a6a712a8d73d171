"""Run a fixture-rendering tool (an ES module in frontend/tests/tools/) in headless Chromium and
write the JPEG frames it returns as an MJPEG fake-camera file: what scripts/render_*_fixture.py
share. The tool is bundled with esbuild and served from a throw-away folder with its assets."""
from __future__ import annotations

import base64
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


def run_tool(tool: str, function: str, call: str, assets: dict[str, Path] | None = None) -> dict:
    """Bundle frontend/tests/tools/`tool`, open it, wait for window.`function`, evaluate `call`
    (a JS expression) and return its result. `assets`: files served beside it, by name."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        www = Path(tmp)
        subprocess.run(
            [str(ROOT / "node_modules" / ".bin" / "esbuild"), str(ROOT / "frontend" / "tests" / "tools" / tool),
             "--bundle", "--format=esm", f"--outfile={www / 'tool.js'}"],
            check=True, cwd=ROOT,
        )  # fmt: skip
        for name, path in (assets or {}).items():
            shutil.copy(path, www / name)
        (www / "index.html").write_text('<!doctype html><body><script type="module" src="tool.js"></script></body>')
        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(www)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as p:
                browser = harness.launch_chromium(p)
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
                page.wait_for_function(f"() => typeof window.{function} === 'function'")
                result = page.evaluate(f"() => {call}")
                browser.close()
        finally:
            server.shutdown()
    return result


def write_mjpeg(name: str, frames: list[str]) -> Path:
    """The tool's frames (JPEG data URLs) as OUT/`name`, one JPEG after another."""
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / name, "wb") as f:
        for url in frames:
            f.write(base64.b64decode(url.split(",", 1)[1]))
    return OUT / name
