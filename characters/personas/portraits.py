"""Portraits of the built-in 2D avatars (fox, robot, cat), for presets and every character that
uses one: the list and detail pages show them, and Character Card PNG exports carry them
instead of a generated letter.

The pictures are what the browser's own renderer (frontend/src/avatar/renderer2d.js with
characters2d.js) draws, not a Python imitation: `manage.py render_avatar_portraits` runs that
code in headless Chromium and writes static/img/portraits/<key>.png, which is committed, so a
server needs no browser. tests/characters/personas/test_portraits.py draws them again and
compares, so a changed renderer with stale portraits fails the suite.
"""
from __future__ import annotations

import base64
import io
import mimetypes
from pathlib import Path
from typing import Any

from django.conf import settings

from ..models.personas import BuiltinAvatar

PORTRAIT_SIZE = 512
PORTRAIT_DIR = Path(settings.BASE_DIR) / "static" / "img" / "portraits"
FRONTEND_SRC = Path(settings.BASE_DIR) / "frontend" / "src"
# A made-up origin: Playwright answers every request for it from frontend/src, so the modules
# load as they do on the site (ES modules do not load from file:// URLs) with no server.
_ORIGIN = "http://portraits.invalid"

# A friendly face: a slight smile, eyes open, looking at the viewer, frame time 0 (the fox's
# tail and the robot's antenna sway with time).
_DRAW_JS = """
async ([key, size]) => {
  const { Canvas2DRenderer } = await import("/avatar/renderer2d.js");
  const { createParams, BS } = await import("/avatar/params.js");
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  const renderer = new Canvas2DRenderer(canvas, "builtin:" + key);
  const params = createParams();
  params.blendshapes[BS.mouthSmileLeft] = 0.45;
  params.blendshapes[BS.mouthSmileRight] = 0.45;
  renderer.render(params, 0);
  return canvas.toDataURL("image/png");
}
"""


def static_name(builtin: str) -> str:
    """The static file name of a built-in avatar's portrait ("" for no built-in avatar)."""
    return f"img/portraits/{builtin}.png" if builtin in BuiltinAvatar.values else ""


def portrait_path(builtin: str) -> Path | None:
    return PORTRAIT_DIR / f"{builtin}.png" if builtin in BuiltinAvatar.values else None


def portrait_png(builtin: str) -> bytes | None:
    """The committed portrait of a built-in avatar, or None (no such avatar, file missing)."""
    path = portrait_path(builtin)
    try:
        return path.read_bytes() if path is not None else None
    except OSError:
        return None


def _serve_frontend(route: Any) -> None:
    path = route.request.url.removeprefix(_ORIGIN).split("?")[0]
    if path == "/":
        route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>portraits</title>")
        return
    file = (FRONTEND_SRC / path.lstrip("/")).resolve()
    if not file.is_relative_to(FRONTEND_SRC.resolve()) or not file.is_file():
        route.fulfill(status=404, body="")
        return
    content_type = "text/javascript" if file.suffix in (".js", ".mjs") else (mimetypes.guess_type(file.name)[0] or "application/octet-stream")
    route.fulfill(status=200, content_type=content_type, body=file.read_bytes())


def render_portraits(*, keys: list[str] | None = None, size: int = PORTRAIT_SIZE,
                     chromium_path: str = "/usr/bin/chromium") -> dict[str, bytes]:
    """Draw each built-in avatar in headless Chromium: {key: PNG bytes}. Needs Playwright (a dev
    requirement) and Chromium; the server never calls this."""
    from PIL import Image
    from playwright.sync_api import sync_playwright

    results: dict[str, bytes] = {}
    with sync_playwright() as playwright:
        # Software drawing (no GPU), the same on every machine this runs on.
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--force-color-profile=srgb"])
        try:
            page = browser.new_page(device_scale_factor=1)
            page.route(f"{_ORIGIN}/**", _serve_frontend)
            page.goto(f"{_ORIGIN}/")
            for key in keys or list(BuiltinAvatar.values):
                data_url = page.evaluate(_DRAW_JS, [key, size])
                raw = base64.b64decode(data_url.split(",", 1)[1])
                # Re-encoded without metadata: the same picture gives the same bytes.
                with Image.open(io.BytesIO(raw)) as img:
                    out = io.BytesIO()
                    img.convert("RGBA").save(out, "PNG", optimize=True)
                results[key] = out.getvalue()
        finally:
            browser.close()
    return results
