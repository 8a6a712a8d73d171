"""The story page in real Chromium: a story streams in and becomes chapters (as text, never
markup), and Stop cancels it, closing the model's stream. Its own Daphne, pointed at a fake
OpenAI-compatible upstream (tests/support/fake_openai.py)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAI, Reply, varied_words

from . import harness

STORY = "## Chapter 1: The <b>Call</b>\nArthur woke early.\n\nIt was cold.\n\n## Chapter 2: The Dragon\nThe dragon slept.\n"


@pytest.fixture(scope="module")
def story_server(tmp_path_factory):
    if not Path(harness.CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {harness.CHROMIUM}")
    assert (harness.ROOT / "static" / "dist" / "story.js").exists(), "front-end not built: npm run build"
    fake = FakeOpenAI(models=("fake-model",)).start()
    server = harness.LiveServer(tmp_path_factory.mktemp("story-live"))
    server.env["LLM_MODELS"] = json.dumps([fake.model_config("fake", label="Fake model")])
    server.env["CHANNEL_PREFIX"] = server.env["CHANNEL_PREFIX"] + "_story"
    server.start()
    server.manage_python(
        "from accounts.models import Plan, User\n"
        f"User.objects.create_user(email='teller@example.com', password={harness.PASSWORD!r}, plan=Plan.objects.get(code='free'))\n"
        "print('{}')\n"
    )
    yield server, fake
    server.stop()
    fake.stop()


def test_a_story_streams_into_chapters_and_stop_cancels_the_next(story_server, playwright_driver, artifacts):
    server, fake = story_server
    browser = harness.launch_chromium(playwright_driver)
    try:
        context = browser.new_context(viewport={"width": 1000, "height": 800})
        context.set_default_timeout(30_000)
        page = harness.login(context, server.base_url, "teller@example.com")
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{server.base_url}/story/")
        page.wait_for_selector("[data-story-form][data-ready]")
        assert not page.is_visible("[data-story-stop]")

        fake.default = Reply(STORY, token_rate=30)
        page.fill("[data-story-prompt]", "A knight")
        page.select_option("[data-story-length]", "short")
        page.select_option("[data-story-style]", "adventure")
        page.click("[data-story-write]")
        page.wait_for_selector("[data-story-stop]", state="visible")
        page.wait_for_selector("[data-story-stop]", state="hidden")
        assert page.locator(".story-chapters h2").all_inner_texts() == ["Chapter 1: The <b>Call</b>", "Chapter 2: The Dragon"]
        assert page.locator(".story-chapters p").all_inner_texts() == ["Arthur woke early.", "It was cold.", "The dragon slept."]
        assert page.locator(".story-chapters b").count() == 0  # the model's text is text, not markup
        assert "9 words in 2 chapters" in page.inner_text("[data-story-status]")
        body = fake.completions[-1].body
        assert body["stream"] and "an adventure story" in body["messages"][0]["content"]
        page.screenshot(path=str(artifacts / "story_done.png"))

        fake.default = Reply(varied_words(500, "Once"), token_rate=20)
        page.click("[data-story-write]")
        page.wait_for_function("() => document.querySelector('[data-story-stream]').textContent.length > 10")
        page.click("[data-story-stop]")
        page.wait_for_selector("[data-story-stop]", state="hidden")
        assert page.inner_text("[data-story-status]") == "Stopped."
        request = fake.completions[-1]
        for _ in range(100):
            if request.disconnected:
                break
            time.sleep(0.05)
        assert request.disconnected and request.tokens_sent < 500
        assert errors == []
    finally:
        browser.close()
