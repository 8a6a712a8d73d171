"""Browser tests: a real Daphne server (tests/browser/harness.py) and headless Chromium with a
fake camera. Session-scoped: one server, one browser; each test uses fresh contexts and rooms."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from . import harness

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def af_server(tmp_path_factory) -> harness.LiveServer:
    if not Path(harness.CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {harness.CHROMIUM} (CI installs Debian's chromium)")
    model = harness.ROOT / "static" / "dist" / "models" / "face_landmarker.task"
    assert model.exists(), "face model missing: run scripts/setup.sh (scripts/setup.d/20-face-model.sh)"
    assert (harness.ROOT / "static" / "dist" / "call.js").exists(), "front-end not built: npm run build"
    server = harness.LiveServer(tmp_path_factory.mktemp("live")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def playwright_driver(af_server):
    # Module scope, not session: Playwright's sync API marks an asyncio loop as running in this
    # thread while it is open, which would break every async test collected after it.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture
def artifacts() -> Path:
    harness.ARTIFACTS.mkdir(exist_ok=True)
    return harness.ARTIFACTS


@pytest.fixture
def new_context(playwright_driver):
    """A fresh person: their own Chromium (own GPU process, as two people have two computers:
    WebGL of one never waits behind the other's) with a fake camera. Closed after the test."""
    browsers = []

    def make(**kwargs):
        browser = harness.launch_chromium(playwright_driver)
        browsers.append(browser)
        ctx = browser.new_context(viewport={"width": 1280, "height": 860}, **kwargs)
        ctx.set_default_timeout(30_000)
        return ctx

    yield make
    for browser in browsers:
        browser.close()
