"""The character wizard in real Chromium: while a slow model writes the sheet, the page shows the
field being written, and "Cancel generation" stops it (the model server's stream is closed, nothing
is saved, the form says so). English at desktop width, Korean at phone width."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from characters.personas.wizard import GENERATED_FIELDS
from tests.support.fake_openai import FakeOpenAI, Reply, split_tokens

from . import harness

SHEET = {name: f"{name.replace('_', ' ')} of Noa, written slowly by the model" for name in GENERATED_FIELDS}
SHEET["first_message"] = "Hello {{user}}, I am {{char}}."


@pytest.fixture(scope="module")
def wizard_server(tmp_path_factory):
    if not Path(harness.CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {harness.CHROMIUM}")
    fake = FakeOpenAI(models=("fake-model",)).start()
    server = harness.LiveServer(tmp_path_factory.mktemp("wizard-live"))
    server.env["LLM_MODELS"] = json.dumps([fake.model_config("fake", label="Fake model")])
    server.env["CHANNEL_PREFIX"] = server.env["CHANNEL_PREFIX"] + "_wizard"
    server.start()
    server.create_users(["writer@example.com"])
    yield server, fake
    server.stop()
    fake.stop()


@pytest.mark.parametrize(("language", "width", "cancelled_text"), [
    ("en", 1200, "Generation cancelled. Nothing was saved."),
    ("ko", 390, "생성을 취소했어요. 아무것도 저장되지 않았어요."),
])
def test_progress_then_cancel(wizard_server, playwright_driver, artifacts, language, width, cancelled_text):
    server, fake = wizard_server
    browser = harness.launch_chromium(playwright_driver)
    try:
        context = browser.new_context(viewport={"width": width, "height": 900}, locale=language,
                                      extra_http_headers={"Accept-Language": language})
        context.set_default_timeout(60_000)
        page = harness.login(context, server.base_url, "writer@example.com")
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{server.base_url}/characters/new/")
        fake.default = Reply(json.dumps(SHEET), token_rate=5)  # about 40 s for the whole sheet: time to look and cancel on a loaded machine
        page.fill("#id_name", "Noa Vell")
        page.select_option("#id_language", "en")
        page.click("main form [type=submit]")  # not the header's "Log out" form, the first form on every page
        box = page.locator("[data-wizard-progress]")
        box.wait_for(state="visible")
        # The page names the field being written (in the page's language), and the bar fills.
        page.wait_for_function("() => Number(document.querySelector('[data-wizard-progress] progress').value) >= 2")
        line = page.text_content("[data-progress-text]")
        labels = json.loads(page.text_content("#wizard-field-labels"))
        assert any(f"“{label}”" in line for label in labels.values()), line
        page.screenshot(path=str(artifacts / f"wizard_progress_{language}.png"), full_page=True)
        page.click("[data-progress-cancel]")
        page.wait_for_selector(f"text={cancelled_text}")
        assert fake.completions[-1].tokens_sent < len(split_tokens(json.dumps(SHEET)))  # the model was stopped
        assert page.url.endswith("/characters/new/")  # still step 1: no draft was made
        page.screenshot(path=str(artifacts / f"wizard_cancelled_{language}.png"), full_page=True)
        assert errors == []
    finally:
        browser.close()
