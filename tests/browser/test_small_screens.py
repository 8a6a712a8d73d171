"""Pages on a phone-sized screen (390 x 844 CSS pixels, an iPhone 12-14) in real Chromium: what a
person must reach is inside the viewport without scrolling sideways."""
from __future__ import annotations

import pytest

from . import harness

EMAIL = "phone@example.com"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def seeded(af_server):
    af_server.create_users([EMAIL])
    return af_server.manage_python(
        "import json\n"
        "from accounts.models import User\n"
        "from accounts import services as accounts\n"
        "from characters.models import Character\n"
        "from chat import services as chat\n"
        "from chat.models import Message\n"
        f"u = User.objects.get(email={EMAIL!r})\n"
        "u.api_tokens.exists() or accounts.create_api_token(user=u, name='A token for my streaming setup at home')\n"
        "c = Character.objects.filter(owner=u).first() or Character.objects.create(owner=u, name='Mina', first_message='Hi!', builtin_avatar='cat')\n"
        "conv = chat.create_conversation(user=u, character_id=c.pk)\n"
        "seq = conv.messages.count()\n"
        "for i in range(12):\n"
        "    Message.objects.create(conversation=conv, seq=seq + i + 1, role='user' if i % 2 == 0 else 'assistant',\n"
        "                           text=f'Message {i}: ' + 'a few words of chat ' * 4)\n"
        "print(json.dumps({'conversation': str(conv.pk)}))\n"
    )


def _phone(new_context, af_server):
    context = new_context()
    page = harness.login(context, af_server.base_url, EMAIL)
    page.set_viewport_size(PHONE)
    return page


def _box_in_viewport(page, selector: str) -> dict:
    """The element's box relative to the viewport (after the page scrolled it vertically into view
    with window.scrollTo only: a sideways scroll of a container would hide an overflow)."""
    return page.evaluate(
        """(selector) => {
            const el = document.querySelector(selector);
            const r0 = el.getBoundingClientRect();
            window.scrollTo(0, window.scrollY + r0.top - 100);
            const r = el.getBoundingClientRect();
            return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                    width: window.innerWidth, height: window.innerHeight,
                    docWidth: document.documentElement.scrollWidth};
        }""",
        selector,
    )


def test_profile_token_table_fits_and_revoke_is_reachable(seeded, new_context, af_server, artifacts):
    page = _phone(new_context, af_server)
    page.goto(f"{af_server.base_url}/accounts/profile/")
    box = _box_in_viewport(page, "form[action*='/revoke/'] button")
    assert box["docWidth"] <= PHONE["width"], box  # nothing makes the page scroll sideways
    assert 0 <= box["left"] and box["right"] <= PHONE["width"], box
    assert 0 <= box["top"] and box["bottom"] <= PHONE["height"], box
    # Nothing is hidden in a sideways-scrolling box either: every cell fits its table.
    overflow = page.evaluate(
        "() => [...document.querySelectorAll('.table-scroll')].map(el => el.scrollWidth - el.clientWidth)"
    )
    assert all(o <= 1 for o in overflow), overflow
    page.screenshot(path=str(artifacts / "phone_profile.png"))


def test_chat_input_is_visible_without_scrolling(seeded, new_context, af_server, artifacts):
    page = _phone(new_context, af_server)
    page.goto(f"{af_server.base_url}/chat/{seeded['conversation']}/")
    page.wait_for_function("() => window.__chatPage && window.__chatPage.ready")
    box = page.evaluate(
        """() => {
            const r = (s) => document.querySelector(s).getBoundingClientRect();
            return {scrollY: window.scrollY, docWidth: document.documentElement.scrollWidth,
                    input: r('[data-chat-input]').toJSON(), send: r('[data-chat-send]').toJSON(),
                    log: r('[data-chat-log]').toJSON(), height: window.innerHeight};
        }"""
    )
    page.screenshot(path=str(artifacts / "phone_chat.png"))
    assert box["scrollY"] == 0, box
    assert box["docWidth"] <= PHONE["width"], box
    assert box["input"]["top"] >= 0 and box["input"]["bottom"] <= PHONE["height"], box
    assert box["send"]["bottom"] <= PHONE["height"], box
    # And the messages are on the first screen too, with room for more than a line.
    assert box["log"]["top"] < PHONE["height"] / 2 and box["log"]["height"] >= 150, box


@pytest.mark.parametrize("size", [PHONE, {"width": 1280, "height": 860}], ids=["phone", "desktop"])
def test_call_buttons_are_on_the_first_screen(size, seeded, new_context, af_server, artifacts):
    """Hang up and Mute are on screen as the call page opens, and stay there while the page scrolls
    on a phone (they were a screen and a half down, below both avatars and the device pickers)."""
    page = _phone(new_context, af_server)
    page.set_viewport_size(size)
    code = harness.create_room(page, af_server.base_url, title="Phone call")
    harness.enter_call(page, af_server.base_url, code)
    page.wait_for_function("() => window.__afStats && window.__afStats.state === 'waiting'", timeout=60_000)
    buttons = "[data-el=hangup], [data-el=mute]"

    def boxes():
        return page.evaluate(
            "(sel) => [...document.querySelectorAll(sel)].map((b) => b.getBoundingClientRect().toJSON())", buttons
        )

    page.screenshot(path=str(artifacts / f"call_first_screen_{size['width']}.png"))
    for box in boxes():
        assert 0 <= box["top"] and box["bottom"] <= size["height"], box
        assert box["height"] >= (44 if size is PHONE else 30), box
    if size is PHONE:
        page.evaluate("() => window.scrollTo(0, 400)")
        for box in boxes():
            assert 0 <= box["top"] and box["bottom"] <= size["height"], box
    # Connection details are folded until asked for.
    assert page.locator("[data-el=stats]").is_hidden()
    page.click("[data-el=stats-toggle]")
    assert page.locator("[data-el=stats]").is_visible()
    assert page.get_attribute("[data-el=stats-toggle]", "aria-expanded") == "true"
