"""Reporting a character and its hiding, in real Chromium, on a desktop and a 390 px phone:
someone else's public character is reported through the detail page's form; once a moderator
hides it, the reporter gets the not-found page and its owner sees it marked hidden. The list's
tabs (yours and featured, all public, ...) fit the phone's width."""
from __future__ import annotations

import pytest

from . import harness

OWNER = "report-owner@example.com"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def _make_character(server: harness.LiveServer, name: str) -> str:
    return server.manage_python(
        "import json\n"
        "from accounts.models import User\n"
        "from characters.models import Character\n"
        f"u = User.objects.get(email={OWNER!r})\n"
        f"c = Character.objects.create(owner=u, name={name!r}, visibility='public', builtin_avatar='fox', description='Rude.')\n"
        "print(json.dumps({'id': str(c.pk)}))\n"
    )["id"]


def _hide(server: harness.LiveServer, character_id: str) -> dict:
    return server.manage_python(
        "import json\n"
        "from accounts.models import User\n"
        "from characters.models import CharacterReport\n"
        "from characters.personas import moderation\n"
        "admin = User.objects.filter(email='root-report@example.com').first() or "
        "User.objects.create_superuser(email='root-report@example.com', password='pw-long-enough-1')\n"
        f"moderation.set_hidden(admin=admin, character_ids=[{character_id!r}], hidden=True)\n"
        f"reports = list(CharacterReport.objects.filter(character_id={character_id!r}).values('reason', 'details', 'status'))\n"
        "print(json.dumps({'reports': reports}))\n"
    )


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_report_then_hidden_for_others_and_marked_for_the_owner(af_server, new_context, artifacts, screen):
    reporter = f"reporter-{screen}@example.com"
    af_server.create_users([OWNER, reporter])
    character = _make_character(af_server, f"Grumpy {screen}")
    viewport = PHONE if screen == "phone" else DESKTOP

    context = new_context()
    page = harness.login(context, af_server.base_url, reporter)
    page.set_viewport_size(viewport)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # The list: tabs fit; a non-featured public character is under "All public", not the default.
    page.goto(f"{af_server.base_url}/characters/")
    assert page.locator(".persona-tabs a").all_inner_texts() == ["Mine and featured", "All public", "Only mine", "Presets"]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
    assert page.locator(f"text=Grumpy {screen}").count() == 0
    page.click(".persona-tabs a:has-text('All public')")
    assert page.locator(f".persona-card-title:has-text('Grumpy {screen}')").count() == 1
    assert page.get_attribute(f".persona-card:has-text('Grumpy {screen}') img.persona-thumb", "src") == "/static/img/portraits/fox.png"

    # Report it from its page.
    page.goto(f"{af_server.base_url}/characters/{character}/")
    page.click(".persona-report summary")
    page.select_option(".persona-report select[name=reason]", "hate")
    page.fill(".persona-report textarea[name=details]", "It insults people.")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
    box = page.locator(".persona-report button[type=submit]").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box
    page.screenshot(path=str(artifacts / f"character_report_{screen}.png"), full_page=True)
    with page.expect_navigation():
        page.click(".persona-report button[type=submit]")
    assert "Your report was sent to the moderators" in page.inner_text(".messages")
    assert page.locator(".persona-reported").is_visible() and page.locator(".persona-report").count() == 0

    # A moderator hides it: gone for the reporter, marked for the owner.
    assert _hide(af_server, character) == {"reports": [{"reason": "hate", "details": "It insults people.", "status": "actioned"}]}
    assert page.goto(f"{af_server.base_url}/characters/{character}/").status == 404
    owner_page = harness.login(new_context(), af_server.base_url, OWNER)
    owner_page.set_viewport_size(viewport)
    owner_page.goto(f"{af_server.base_url}/characters/{character}/")
    assert owner_page.locator(".persona-hero .badge-danger").inner_text() == "Hidden by moderators"
    assert "Only you can see it" in owner_page.inner_text(".persona-hidden-note")
    owner_page.screenshot(path=str(artifacts / f"character_hidden_{screen}.png"), full_page=True)
    assert errors == []
