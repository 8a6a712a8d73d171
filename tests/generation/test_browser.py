"""End to end in headless Chromium: a real server (Daphne), a real Celery worker, the upload page, the
job page watching the stages over the WebSocket, and the result playing in the 3D viewer."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.browser import harness

from .conftest import mjpeg_frames

pytestmark = [pytest.mark.browser, pytest.mark.slow]
EMAIL = "chibi@example.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(harness.CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {harness.CHROMIUM}")
    assert (harness.ROOT / "static" / "dist" / "generation_job.js").exists(), "front-end not built: npm run build"
    live = harness.LiveServer(tmp_path_factory.mktemp("generation-live"))
    live.queue = f"browser-generation-{uuid.uuid4().hex[:8]}"
    live.env["GENERATION_QUEUE"] = live.queue  # the server queues there, our worker listens there
    live.start()
    live.create_users([EMAIL])
    yield live
    live.stop()


@contextmanager
def celery_worker(live):
    log = open(live.tmp / "worker.log", "wb")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "avatarforge", "worker", "-Q", live.queue, "-c", "1", "-P", "solo",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"],
        cwd=harness.ROOT, env=live.env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()


def canvas_has_content(page, selector: str) -> bool:
    from PIL import Image, ImageStat

    image = Image.open(io.BytesIO(page.locator(selector).screenshot())).convert("L")
    return ImageStat.Stat(image).stddev[0] > 8  # the empty stage is a smooth gradient


def test_selfie_to_avatar_in_the_browser(server, tmp_path):
    from playwright.sync_api import sync_playwright

    photo = tmp_path / "selfie.jpg"
    photo.write_bytes(mjpeg_frames(harness.FACE_MJPEG, limit=1)[0])
    frames: list[dict] = []
    with sync_playwright() as p, ExitStack() as stack:
        browser = harness.launch_chromium(p)
        context = browser.new_context(viewport={"width": 1200, "height": 1000})
        context.set_default_timeout(90_000)
        page = harness.login(context, server.base_url, EMAIL)

        def on_socket(ws):
            def received(payload):
                if isinstance(payload, str):
                    frames.append(json.loads(payload))
            ws.on("framereceived", received)

        page.on("websocket", on_socket)
        page.goto(f"{server.base_url}/generate/")
        page.set_input_files("#gen-image", str(photo))
        page.wait_for_selector("#gen-preview", state="visible")  # the local preview appears (decoded asynchronously)
        page.fill("#gen-name", "Browser chibi")
        with page.expect_navigation():
            page.click("#gen-submit")
        assert "/generate/" in page.url
        # The page is watching the queued job; only now does a worker start, so every step is seen live.
        for _ in range(300):  # wait (up to 30 s) for the socket's first frame
            if frames:
                break
            page.wait_for_timeout(100)
        assert frames and frames[0]["job"]["status"] == "queued"
        stack.enter_context(celery_worker(server))

        page.wait_for_selector("#gen-job[data-status=succeeded]")
        assert page.locator("#gen-progress").evaluate("el => el.value") == 100
        assert page.locator(".gen-stage-done").count() == 9
        assert page.locator("img.gen-stage-preview").count() >= 7
        page.wait_for_function("() => window.__generationViewer && window.__generationViewer.vrm")
        names = page.evaluate("window.__generationViewer.expressionNames()")
        assert {"blink", "blinkLeft", "blinkRight", "aa", "ih", "ou", "ee", "oh", "happy", "angry", "sad", "surprised"} <= set(names)
        clips = page.evaluate("[...window.__generationViewer.clips.keys()]")
        assert sorted(clips) == ["idle", "talk", "wave"]
        page.click("[data-clip=wave]")
        page.click("[data-expression=happy]")
        assert page.locator("[data-expression=happy]").get_attribute("aria-pressed") == "true"
        page.wait_for_timeout(600)  # let a few frames of the wave render before the screenshot
        assert page.evaluate("window.__generationViewer.action.getClip().name") == "wave"
        assert canvas_has_content(page, "#gen-viewer")
        harness.ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(harness.ARTIFACTS / "generation_job.png"), full_page=True)
        assert page.locator("#gen-avatar-links").is_visible()

        # The creator: what the photo said fills the form; a change shows in the viewer at once
        # (the preview VRM replaces the shown one), and saving builds a new version in the library.
        page.wait_for_function("() => window.__generationCreator")
        assert page.locator("select[name=p_hair_style]").input_value() == "short"
        assert page.evaluate("window.__generationViewer.vrm.springBoneManager.joints.size") == 4 * 3
        assert page.locator("select[name=p_outfit]").input_value() == "casual"
        page.select_option("select[name=p_hair_style]", "long")
        page.select_option("select[name=p_outfit]", "suit")
        page.locator("input[name=p_hair_color]").evaluate(
            "(el) => { el.value = '#c03050'; el.dispatchEvent(new Event('input', { bubbles: true })); }")
        page.wait_for_function(
            "() => window.__generationCreator.previews >= 1 && window.__generationViewer.vrm.springBoneManager.joints.size === 6 * 3")
        assert canvas_has_content(page, "#gen-viewer")
        page.screenshot(path=str(harness.ARTIFACTS / "generation_creator.png"), full_page=True)
        first_url = page.url
        with page.expect_navigation():
            page.click("#gen-creator-save")
        assert page.url != first_url and "/generate/" in page.url
        page.wait_for_selector("#gen-job[data-status=succeeded]")
        page.wait_for_function("() => window.__generationCreator")
        assert page.locator("select[name=p_hair_style]").input_value() == "long"
        assert page.locator("input[name=p_hair_color]").input_value() == "#c03050"
        assert page.locator("select[name=p_outfit]").input_value() == "suit"
        avatars = page.request.get(f"{server.base_url}/api/avatars").json()
        names = [a["name"] for a in avatars["results"]]
        assert len(names) == 2, names  # the first avatar and the new version
        assert page.locator("#gen-avatar-links").is_visible()  # "Use as my avatar" is offered for it
        context.close()
        browser.close()

    # Progress came over the WebSocket while the worker ran, not only at the end.
    statuses = [f["job"]["status"] for f in frames if f.get("type") == "job"]
    assert "running" in statuses and statuses[-1] == "succeeded"
