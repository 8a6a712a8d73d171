"""Stream mode in Chromium with the fake camera: a page with nothing but your avatar, tracked from
your camera, on a transparent background (an OBS browser source composites it as it is)."""
from __future__ import annotations

import io
import uuid

from PIL import Image

from . import harness


def _alpha_at(png: bytes, points: list[tuple[float, float]]) -> list[int]:
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    w, h = image.size
    return [image.getpixel((min(w - 1, int(x * w)), min(h - 1, int(y * h))))[3] for x, y in points]


def _opaque_share(png: bytes) -> float:
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    histogram = image.getchannel("A").histogram()  # 256 counts of alpha values
    return 1 - histogram[0] / sum(histogram)


CORNERS = [(0.01, 0.01), (0.99, 0.01), (0.01, 0.99), (0.99, 0.99)]


def test_stream_mode_is_transparent_and_tracks_your_avatar(af_server, new_context, artifacts):
    email = f"sky-{uuid.uuid4().hex[:8]}@example.com"
    af_server.create_users([email])
    actor = af_server.create_vrm_actor(email)
    ctx = new_context()
    page = harness.login(ctx, af_server.base_url, email)
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    # Nothing the page asks for fails (OBS logs each failure; the favicon was a 404 on every load).
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    # Nor logs an error (MediaPipe's "INFO: Created TensorFlow Lite XNNPACK delegate" was one).
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)

    # Your VRM actor (the default for someone who has one), tracked from the camera.
    page.goto(f"{af_server.base_url}/rooms/stream/")
    page.wait_for_function("() => window.__afStream.kind === 'vrm'", timeout=60_000)
    page.wait_for_function("() => window.__afStream.trackingFaces > 10 && window.__afStream.frames > 10", timeout=60_000)
    assert page.evaluate("() => window.__afStream.avatar.fileHash") == actor["file_hash"]
    background = page.evaluate(
        "() => [getComputedStyle(document.body).backgroundColor, getComputedStyle(document.documentElement).backgroundColor]"
    )
    assert background == ["rgba(0, 0, 0, 0)", "rgba(0, 0, 0, 0)"]
    assert page.locator("header, nav, footer").count() == 0  # nothing but the avatar
    assert page.locator("[data-el=message]").is_hidden()
    png = page.screenshot(omit_background=True)
    (artifacts / "stream_vrm.png").write_bytes(png)
    assert _alpha_at(png, CORNERS) == [0, 0, 0, 0]  # the page around the avatar lets the stream through
    assert 0.02 < _opaque_share(png) < 0.9  # and the avatar is drawn

    # A built-in 2D character by ?avatar=: drawn without its backdrop; the call page's choice stays.
    page.goto(f"{af_server.base_url}/rooms/stream/?avatar=builtin:fox")
    page.wait_for_function("() => window.__afStream.kind === '2d' && window.__afStream.frames > 10")
    page.wait_for_function("() => window.__afStream.trackingFaces > 10", timeout=60_000)
    assert page.evaluate("() => window.__afStream.avatar.id") == "builtin:fox"
    assert page.evaluate("() => localStorage.getItem('af.call.avatar')") == f"actor:{actor['actor']}"
    png = page.screenshot(omit_background=True)
    (artifacts / "stream_2d.png").write_bytes(png)
    assert _alpha_at(png, CORNERS) == [0, 0, 0, 0]
    assert _alpha_at(png, [(0.5, 0.5)]) == [255]  # the fox's face
    assert 0.05 < _opaque_share(png) < 0.9
    assert errors == []


def test_stream_mode_needs_login(af_server, new_context):
    page = new_context().new_page()
    page.goto(f"{af_server.base_url}/rooms/stream/")
    assert "/accounts/login/" in page.url
