"""The avatar library in headless Chromium against a real server: drag-free upload through the
page's script (progress, per-file result, duplicate answer), the 3D preview rendering Godette
with expression buttons, and the actor editor's widgets."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.browser import harness
from tests.characters.avatars.support import GODETTE, ROBOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]
EMAIL = "viewer@example.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(harness.CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {harness.CHROMIUM}")
    assert (harness.ROOT / "static" / "dist" / "avatar_detail.js").exists(), "front-end not built: npm run build"
    live = harness.LiveServer(tmp_path_factory.mktemp("avatar-live")).start()
    live.create_users([EMAIL])
    yield live
    live.stop()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = harness.launch_chromium(p)
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        context.set_default_timeout(60_000)
        page = harness.login(context, server.base_url, EMAIL)
        yield page
        context.close()
        browser.close()


def canvas_has_content(page, selector: str) -> bool:
    from PIL import Image, ImageStat

    shot = page.locator(selector).screenshot()
    image = Image.open(io.BytesIO(shot)).convert("L")
    return ImageStat.Stat(image).stddev[0] > 2  # an empty stage is a smooth gradient


def test_upload_preview_and_actor_editor(server, page):
    base = server.base_url
    page.goto(f"{base}/avatars/")
    page.set_input_files("#avatar-file", str(GODETTE))
    row = page.locator("#avatar-upload-results li[data-file='Godette_vrm_v4.vrm']")
    row.locator("[data-result], .status.ok").first.wait_for()
    assert row.get_attribute("data-result") == "ok", row.inner_text()
    detail_href = row.locator("a").get_attribute("href")

    # the same file again: a duplicate answer with a link to the existing avatar, nothing new
    page.set_input_files("#avatar-file", str(GODETTE))
    page.wait_for_function("() => document.querySelectorAll('#avatar-upload-results li[data-result]').length === 2")
    second = page.locator("#avatar-upload-results li").nth(1)
    assert second.get_attribute("data-result") == "ask"
    assert second.locator("a").get_attribute("href") == detail_href

    # a VRM 1.0 file and a broken one
    page.set_input_files("#avatar-file", str(ROBOT))
    page.wait_for_function("() => document.querySelectorAll('#avatar-upload-results li[data-result]').length === 3")
    assert page.locator("#avatar-upload-results li").nth(2).get_attribute("data-result") == "ok"

    # the grid shows the thumbnails
    page.goto(f"{base}/avatars/")
    page.wait_for_function("() => [...document.querySelectorAll('.av-grid img')].every(i => i.complete && i.naturalWidth > 0)")
    assert page.locator(".av-grid > li").count() == 2

    # the avatar page renders Godette in 3D and toggles an expression
    page.goto(base + detail_href)
    page.wait_for_selector("#avatar-canvas[data-state='ready']", timeout=90_000)
    expressions = page.get_attribute("#avatar-canvas", "data-expressions").split(",")
    assert {"happy", "aa", "blink"} <= set(expressions)
    page.wait_for_timeout(500)
    assert canvas_has_content(page, "#avatar-canvas")
    page.click("[data-expression='happy']")
    assert page.get_attribute("[data-expression='happy']", "aria-pressed") == "true"
    artifacts = harness.ARTIFACTS
    artifacts.mkdir(exist_ok=True)
    page.locator("#avatar-canvas").screenshot(path=str(artifacts / "avatar_preview_godette.png"))

    # the VRM 1.0 robot renders too
    page.goto(f"{base}/avatars/")
    page.click(".av-grid > li:has-text('Debug Robot') a")
    page.wait_for_selector("#avatar-canvas[data-state='ready']", timeout=90_000)
    page.wait_for_timeout(300)
    assert canvas_has_content(page, "#avatar-canvas")
    page.locator("#avatar-canvas").screenshot(path=str(artifacts / "avatar_preview_robot.png"))
    page.goto(base + detail_href)
    page.wait_for_selector("#avatar-canvas[data-state='ready']", timeout=90_000)

    # an actor for it, then the editor: curve and shortcut widgets, preview
    page.goto(f"{base}/avatars/actors/")
    page.fill("#actor-name", "Browser actor")
    with page.expect_navigation():
        page.click("form.inline-form button[type=submit]")
    page.wait_for_selector("#actor-canvas, #avatar-canvas[data-state='ready']", timeout=90_000)
    page.click("#curve-editor button:has-text('Add curve')")
    assert page.locator("#curve-editor .av-curve").count() == 1
    curves = page.input_value("#curves-json")
    assert '"eyeBlinkLeft"' in curves and '"outMax": 1' in curves
    page.click("#shortcut-editor > button")
    assert page.locator("#shortcut-editor .av-shortcut").count() == 1
    save = "#actor-form button[type=submit]:not([class*=small])"
    with page.expect_navigation():
        page.click(save)
    # A new shortcut has no key and no expression yet: the server refuses the whole form and
    # names both fields; nothing is saved, so the editor shows the stored (empty) curves again.
    alert = page.locator(".form-errors").inner_text()
    assert "shortcuts.0.key" in alert and "shortcuts.0.weights" in alert, alert
    assert "Some actor settings are invalid." in page.content()
    assert "Saved." not in page.content()
    assert '"eyeBlinkLeft"' not in page.input_value("#curves-json")
    # The curve alone is valid: saved, and shown back from the database after the redirect.
    page.click("#curve-editor button:has-text('Add curve')")
    with page.expect_navigation():
        page.click(save)
    assert "Saved." in page.content()
    assert page.locator(".form-errors").count() == 0
    assert '"eyeBlinkLeft"' in page.input_value("#curves-json")


def test_the_grid_refreshes_after_an_upload(server, page):
    """No reload: the new avatar's card appears in the grid and the empty state goes."""
    server.create_users(["grid@example.com"])
    context = page.context.browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(60_000)
    try:
        mine = harness.login(context, server.base_url, "grid@example.com")
        mine.goto(f"{server.base_url}/avatars/")
        assert mine.is_visible("#avatar-empty") and mine.locator(".av-grid > li").count() == 0
        mine.evaluate("() => { window.__samePage = true; }")
        mine.set_input_files("#avatar-file", str(ROBOT))
        mine.wait_for_function("() => document.querySelectorAll('.av-grid > li').length === 1")
        assert mine.locator("#avatar-empty").count() == 0
        assert mine.evaluate("() => window.__samePage === true")  # the page was not reloaded
        href = mine.locator("#avatar-upload-results li a").first.get_attribute("href")
        assert mine.locator(f".av-grid a[href='{href}']").count() == 1
    finally:
        context.close()
