"""The chat page in real Chromium: a reply streams into the transcript, the avatar takes the
reply's emotion, and the stop button cancels a reply in flight. Its own Daphne, pointed at a fake
OpenAI-compatible upstream (tests/support/fake_openai.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAI, Reply, varied_words

from . import harness


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory):
    if not Path(harness.CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {harness.CHROMIUM}")
    assert (harness.ROOT / "static" / "dist" / "chat.js").exists(), "front-end not built: npm run build"
    fake = FakeOpenAI(models=("fake-model",)).start()
    server = harness.LiveServer(tmp_path_factory.mktemp("chat-live"))
    server.env["LLM_MODELS"] = json.dumps([fake.model_config("fake", label="Fake model")])
    server.env["CHANNEL_PREFIX"] = server.env["CHANNEL_PREFIX"] + "_chat"
    server.start()
    info = server.manage_python(
        "import json\n"
        "from accounts.models import Plan, User\n"
        "from characters.models import Character\n"
        "from chat import services\n"
        f"u = User.objects.create_user(email='chatter@example.com', password={harness.PASSWORD!r}, plan=Plan.objects.get(code='free'))\n"
        "c = Character.objects.create(owner=u, name='Mina', first_message='Hi {{user}}!', builtin_avatar='cat')\n"
        "conv = services.create_conversation(user=u, character_id=c.pk)\n"
        "print(json.dumps({'conversation': str(conv.pk)}))\n"
    )
    yield server, fake, info["conversation"]
    server.stop()
    fake.stop()


def test_streaming_reply_emotion_and_stop(chat_server, playwright_driver, artifacts):
    server, fake, conversation = chat_server
    browser = harness.launch_chromium(playwright_driver)
    try:
        context = browser.new_context(viewport={"width": 1200, "height": 800})
        context.set_default_timeout(30_000)
        page = harness.login(context, server.base_url, "chatter@example.com")
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{server.base_url}/chat/{conversation}/")
        page.wait_for_selector("#chat-avatar canvas")
        assert not page.is_visible("[data-chat-stop]") and not page.is_visible("[data-chat-older]")
        page.wait_for_function("() => window.__chatPage && window.__chatPage.ready")
        assert page.inner_text(".msg-assistant .msg-text") == "Hi chatter!"
        assert page.inner_text("[data-chat-emotion]") == "Neutral"  # the server's label

        fake.default = Reply("[happy] So nice to see you again, my friend!", token_rate=25)
        # Record the avatar's mouth every frame: [reading the text?, the widest vowel shape].
        page.evaluate("""() => {
            const p = window.__chatPage, log = (window.__mouthLog = []);
            const tick = () => {
                const e = p.params.expressions;
                log.push([p.textVisemes.active, Math.max(...["aa", "ih", "ou", "ee", "oh"].map((v) => e[v] || 0))]);
                requestAnimationFrame(tick);
            };
            requestAnimationFrame(tick);
        }""")
        page.fill("[data-chat-input]", "Hello <b>Mina</b>")
        page.keyboard.press("Enter")
        page.wait_for_selector("[data-chat-stop]", state="visible")
        page.wait_for_selector("[data-chat-stop]", state="hidden")
        last = page.locator(".chat-log .msg-assistant").last
        assert last.inner_text().endswith("So nice to see you again, my friend!"), (last.inner_text(), page.inner_text("[data-chat-status]"))
        assert page.locator(".chat-log .msg-user .msg-text").last.inner_text() == "Hello <b>Mina</b>"  # as text
        # The same label table as the server's "Neutral": "Happy", not "happy".
        assert page.inner_text("[data-chat-emotion]") == "Happy"
        assert page.get_attribute("[data-chat-emotion]", "data-emotion") == "happy"
        assert page.evaluate("window.__chatPage.animator.emotion") == "happy"
        page.screenshot(path=str(artifacts / "chat_reply.png"))
        # No voice here: the streamed text moved the mouth, syllable by syllable, and it rests after.
        page.wait_for_function("() => !window.__chatPage.textVisemes.active")
        page.wait_for_function("() => window.__mouthLog.length > 30 && !window.__mouthLog[window.__mouthLog.length - 1][0]")
        mouth = page.evaluate("window.__mouthLog")
        reading = [w for active, w in mouth if active]
        assert max(reading) > 0.5 and sum(w < 0.1 for w in reading) >= 3, reading  # opens and closes
        assert all(w == 0 for active, w in mouth[-10:] if not active)

        # A reply that loops is cut by the server; the note shows at once, not only after a reload.
        fake.default = Reply("[angry] " + "I will give you the answer to the riddle now. " * 8, token_rate=60)
        page.fill("[data-chat-input]", "What is the answer?")
        page.keyboard.press("Enter")
        page.wait_for_selector(".chat-log .msg-assistant:last-child [data-cut='loop']")
        last = page.locator(".chat-log .msg-assistant").last
        assert last.locator(".msg-text").inner_text() == "I will give you the answer to the riddle now."
        assert "Cut short" in last.locator("[data-cut='loop']").inner_text()
        assert page.inner_text("[data-chat-emotion]") == "Angry"

        fake.default = Reply("[sad] " + varied_words(300, "slowly"), token_rate=20)
        page.fill("[data-chat-input]", "Tell me a long story")
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.querySelectorAll('.chat-log .msg-assistant').length === 4 && "
                               "document.querySelector('.chat-log .msg-assistant:last-child .msg-text').textContent.length > 10")
        page.click("[data-chat-stop]")
        page.wait_for_selector(".chat-log .msg-cancelled")
        assert page.evaluate("window.__chatPage.textVisemes.active") is False  # stopped: the mouth closes at once
        assert fake.completions[-1].tokens_sent < 300
        assert errors == []
        page.screenshot(path=str(artifacts / "chat_stopped.png"))
    finally:
        browser.close()


def test_home_lists_conversations_and_starts_one(chat_server, playwright_driver, artifacts):
    server, _fake, conversation = chat_server
    browser = harness.launch_chromium(playwright_driver)
    try:
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        page = harness.login(context, server.base_url, "chatter@example.com")
        page.goto(f"{server.base_url}/chat/")
        assert page.locator(f"a[href='/chat/{conversation}/']").count() == 1
        page.click(".chat-char a.button")
        page.wait_for_selector("form[action='/chat/start/']")
        page.click(".chat-start details summary")
        page.fill("#start-situation", "On a night train.")
        page.screenshot(path=str(artifacts / "chat_home.png"), full_page=True)
        with page.expect_navigation():
            page.click("form[action='/chat/start/'] button[type=submit]")
        assert "/chat/" in page.url and page.url.rstrip("/").split("/")[-1] != conversation
        page.wait_for_selector("#chat-avatar canvas")
    finally:
        browser.close()
