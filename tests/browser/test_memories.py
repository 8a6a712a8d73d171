"""The memories page ("What <character> remembers about you") in real Chromium, in English and
Korean, on a desktop and a 390 px phone: the facts are listed, one is corrected, one deleted,
and turning memory off forgets the rest; the database agrees after each step, and on the phone
every control is reachable without scrolling sideways."""
from __future__ import annotations

from pathlib import Path

import pytest

from . import harness

DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
FACTS = ["Likes spicy ramen.", "Has a cat named Bori.", "Studies piano on Sundays."]

# What the page says after each step, per language (the Korean catalog's own words).
TEXTS = {
    "en": {"heading": "What Mina remembers about you", "corrected": "Memory corrected.", "deleted": "Memory deleted.",
           "off": "Memory is off. Everything was forgotten.", "empty": "Memory is off: nothing is kept."},
    "ko": {"heading": "서지원이 기억하는 당신", "corrected": "기억을 고쳤습니다.", "deleted": "기억을 삭제했습니다.",
           "off": "기억하기가 꺼졌습니다. 모든 기억을 지웠습니다.", "empty": "기억하기가 꺼져 있습니다. 아무것도 보관하지 않습니다."},
}
NAMES = {"en": "Mina", "ko": "서지원"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(harness.CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {harness.CHROMIUM}")
    live = harness.LiveServer(tmp_path_factory.mktemp("memories-live"))
    live.env["CHANNEL_PREFIX"] = live.env["CHANNEL_PREFIX"] + "_memories"
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def driver(server):
    # Its own Playwright (the shared one also starts the call server, which needs the face model).
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


def _seed(server: harness.LiveServer, email: str, name: str) -> dict:
    """A user, their character and three remembered facts, through the app's own models."""
    server.create_users([email])
    return server.manage_python(
        "import json\n"
        "from accounts.models import User\n"
        "from characters.models import Character\n"
        "from chat.models import CharacterMemory\n"
        f"u = User.objects.get(email={email!r})\n"
        f"c = Character.objects.create(owner=u, name={name!r}, builtin_avatar='cat')\n"
        f"ids = [CharacterMemory.objects.create(user=u, character=c, text=t).pk for t in {FACTS!r}]\n"
        "print(json.dumps({'character': str(c.pk), 'memories': ids}))\n"
    )


def _state(server: harness.LiveServer, email: str, character: str) -> dict:
    return server.manage_python(
        "import json\n"
        "from chat.models import CharacterMemory, MemorySetting\n"
        f"rows = CharacterMemory.objects.filter(user__email={email!r}, character_id={character!r})\n"
        f"setting = MemorySetting.objects.filter(user__email={email!r}, character_id={character!r}).first()\n"
        "print(json.dumps({'texts': sorted(r.text for r in rows), 'enabled': setting.enabled if setting else None}))\n"
    )


def _fits(page, width: int) -> None:
    """Nothing scrolls sideways, and every button and text box lies within the screen's width."""
    boxes = page.evaluate(
        """() => ({doc: document.documentElement.scrollWidth,
                   controls: [...document.querySelectorAll('.memories-page button, .memories-page textarea, .memories-page input')]
                     .map(el => { const r = el.getBoundingClientRect(); return [el.outerHTML.slice(0, 60), r.left, r.right]; })})"""
    )
    assert boxes["doc"] <= width, boxes
    outside = [c for c in boxes["controls"] if c[1] < 0 or c[2] > width]
    assert outside == [], outside


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_list_correct_delete_and_turn_memory_off(server, driver, artifacts, language, screen):
    email = f"memories-{language}-{screen}@example.com"
    seeded = _seed(server, email, NAMES[language])
    texts = TEXTS[language]
    viewport = PHONE if screen == "phone" else DESKTOP
    browser = harness.launch_chromium(driver)
    try:
        context = browser.new_context(viewport=viewport, locale="ko-KR" if language == "ko" else "en-US")
        context.set_default_timeout(30_000)
        page = harness.login(context, server.base_url, email)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{server.base_url}/chat/memories/{seeded['character']}/")

        # The list: every fact, in a text box of its own, newest first.
        assert page.inner_text("#memories-heading") == texts["heading"]
        assert page.locator(".memory-item textarea").evaluate_all("els => els.map(e => e.value)") == FACTS[::-1]
        assert page.is_checked("[data-memory-enabled]")
        _fits(page, viewport["width"])
        page.screenshot(path=str(artifacts / f"memories_{language}_{screen}.png"), full_page=True)

        # Correct one.
        first, second = seeded["memories"][0], seeded["memories"][1]
        item = page.locator(f'[data-memory-id="{first}"]')
        item.locator("textarea").fill("Likes   mild ramen now.")
        with page.expect_navigation():
            item.locator(".memory-edit button").click()
        assert texts["corrected"] in page.inner_text(".messages")
        assert page.locator(f'[data-memory-id="{first}"] textarea').input_value() == "Likes mild ramen now."
        assert _state(server, email, seeded["character"])["texts"] == sorted(["Likes mild ramen now.", *FACTS[1:]])

        # Delete one.
        with page.expect_navigation():
            page.locator(f'[data-memory-id="{second}"] .memory-delete button').click()
        assert texts["deleted"] in page.inner_text(".messages")
        assert page.locator(f'[data-memory-id="{second}"]').count() == 0
        assert page.locator(".memory-item").count() == 2
        assert _state(server, email, seeded["character"])["texts"] == sorted(["Likes mild ramen now.", FACTS[2]])
        _fits(page, viewport["width"])

        # Turn memory off: everything is forgotten, and the page says memory is off.
        page.uncheck("[data-memory-enabled]")
        with page.expect_navigation():
            page.locator(".memories-switch button").click()
        assert texts["off"] in page.inner_text(".messages")
        assert page.locator(".memory-item").count() == 0
        assert page.inner_text("[data-memory-empty]") == texts["empty"]
        assert not page.is_checked("[data-memory-enabled]")
        assert _state(server, email, seeded["character"]) == {"texts": [], "enabled": False}
        _fits(page, viewport["width"])
        page.screenshot(path=str(artifacts / f"memories_{language}_{screen}_off.png"), full_page=True)
        assert errors == []
    finally:
        browser.close()

