"""The bare engines of an avatar call, each alone in one Chromium page, for bench/browser_call.py.

    tracking: the call's FaceTracker (frontend/src/tracking/tracker.js: the same face_worker.js
              bundle, model, CPU delegate, camera constraints and stream mode) on the fake camera,
              at the input size the call starts with;
    vrm:      the call's VrmRenderer (three + three-vrm) drawing the call's avatar at the call's
              canvas size under the call's draw-rate cap, a new pose every draw.

The pages (bench/pages/bare_*.js) are bundled here with the project's esbuild into a temporary
folder and served, with static/dist (worker, model, MediaPipe runtime) and the VRM, by a small
HTTP server on loopback. Nothing of this is part of the site: no URL of the app serves them.
"""
from __future__ import annotations

import http.server
import shutil
import subprocess
import tempfile
import threading
import time
from functools import partial
from pathlib import Path
from urllib.parse import quote, urlparse

from tests.browser import harness

PAGES = Path(__file__).resolve().parent / "pages"
DIST = harness.ROOT / "static" / "dist"
ESBUILD = harness.ROOT / "node_modules" / ".bin" / "esbuild"
ENTRIES = ("bare_tracking", "bare_vrm")

_HTML = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bench: {name}</title>'
    "<style>html, body {{ margin: 0; background: #222; }}</style></head>"
    '<body><script type="module" src="/bench/{name}.js"></script></body></html>'
)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """/dist/* from static/dist, /bench/* from the built bundles, /bench/<name>.html generated,
    /avatar.vrm the VRM given to BarePages."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript",
                      ".mjs": "text/javascript", ".wasm": "application/wasm", ".task": "application/octet-stream"}

    def __init__(self, *args, bundles: Path, vrm: Path, **kwargs) -> None:
        self.bundles = bundles
        self.vrm = vrm
        super().__init__(*args, directory=str(bundles), **kwargs)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        path = urlparse(self.path).path
        name = path.removeprefix("/bench/").removesuffix(".html")
        if path.startswith("/bench/") and path.endswith(".html") and name in ENTRIES:
            body = _HTML.format(name=name).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def translate_path(self, path: str) -> str:
        path = urlparse(path).path
        if path == "/avatar.vrm":
            return str(self.vrm)
        if path.startswith("/dist/"):
            target = (DIST / path.removeprefix("/dist/")).resolve()
            return str(target) if target.is_relative_to(DIST) else str(DIST / "missing")
        if path.startswith("/bench/"):
            target = (self.bundles / path.removeprefix("/bench/")).resolve()
            return str(target) if target.is_relative_to(self.bundles) else str(self.bundles / "missing")
        return str(self.bundles / "missing")

    def log_message(self, *_args) -> None:  # quiet
        pass


class BarePages:
    """Build the bare pages and serve them on 127.0.0.1:<free port> while open."""

    def __init__(self, vrm: Path = harness.GODETTE) -> None:
        self.vrm = vrm
        self.tmp = Path(tempfile.mkdtemp(prefix="af-bench-bare-"))
        self.server: http.server.ThreadingHTTPServer | None = None

    def __enter__(self) -> BarePages:
        subprocess.run(
            [str(ESBUILD), *(str(PAGES / f"{n}.js") for n in ENTRIES), "--bundle", "--format=esm",
             "--target=es2022", "--log-level=warning", f"--outdir={self.tmp}"],
            cwd=harness.ROOT, check=True, timeout=120,
        )  # fmt: skip
        handler = partial(_Handler, bundles=self.tmp.resolve(), vrm=self.vrm.resolve())
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}"

    def tracking_url(self, width: int, height: int, fps: float) -> str:
        return f"{self.base_url}/bench/bare_tracking.html?w={width}&h={height}&fps={fps}"

    def vrm_url(self, width: int, height: int, fps: float) -> str:
        return f"{self.base_url}/bench/bare_vrm.html?w={width}&h={height}&fps={fps}&vrm={quote('/avatar.vrm')}"


def _measure(page, url: str, seconds: float, counters: tuple[str, ...]) -> dict:
    page.goto(url)
    page.wait_for_function("() => window.__bare && (window.__bare.ready || window.__bare.error)", timeout=120_000)
    bare = page.evaluate("() => window.__bare")
    if bare["error"]:
        raise RuntimeError(f"bare page failed: {bare['error']}")
    page.wait_for_function(f"() => window.__bare.{counters[0]} > 10", timeout=60_000)  # warmed up (shaders, model)
    time.sleep(1.0)
    b0, t0 = page.evaluate("() => ({...window.__bare})"), time.monotonic()
    time.sleep(seconds)
    b1, dt = page.evaluate("() => ({...window.__bare})"), time.monotonic() - t0
    out = {k: (b1[k] - b0[k]) for k in counters}
    out["seconds"] = dt
    out["last"] = b1
    return out


def measure_tracking(playwright, pages: BarePages, *, width: int, height: int, fps: float, seconds: float) -> dict:
    """FaceLandmarker alone: {fps, detect_ms, faces_pct, input, mode}."""
    browser = harness.launch_chromium(playwright)
    try:
        page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
        m = _measure(page, pages.tracking_url(width, height, fps), seconds, ("results", "faces", "procMs"))
    finally:
        browser.close()
    results = max(1, m["results"])
    return {
        "fps": m["results"] / m["seconds"], "detect_ms": m["procMs"] / results, "faces_pct": 100 * m["faces"] / results,
        "input": m["last"]["input"], "mode": m["last"]["mode"],
    }  # fmt: skip


def measure_vrm(playwright, pages: BarePages, *, width: int, height: int, fps: float, seconds: float) -> dict:
    """three-vrm alone: {fps, draw_ms, size, software_gl}."""
    browser = harness.launch_chromium(playwright)
    try:
        page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
        m = _measure(page, pages.vrm_url(width, height, fps), seconds, ("draws", "drawMs"))
    finally:
        browser.close()
    return {
        "fps": m["draws"] / m["seconds"], "draw_ms": m["drawMs"] / max(1, m["draws"]),
        "size": m["last"]["size"], "software_gl": m["last"]["softwareGl"],
    }  # fmt: skip
