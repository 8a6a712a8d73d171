"""A new user's main pages at phone width, in English and Korean, in real Chromium: no script
errors, nothing wider than the screen, and Korean pages' main headings in Korean. The full
walkthrough with screenshots of every page and width is scripts/walkthrough.py."""
from __future__ import annotations

import re
import uuid

from . import harness

PHONE = {"width": 390, "height": 844}
HANGUL = re.compile(r"[\uac00-\ud7a3]")
PAGES = [
    "/", "/accounts/profile/", "/avatars/", "/avatars/{avatar}/", "/avatars/actors/", "/avatars/actors/{actor}/",
    "/rooms/", "/characters/", "/characters/new/", "/characters/new/manual/", "/chat/", "/story/", "/generate/", "/live/",
]
# Headings that name something the user made keep their name in any language.
NAMED = {"/avatars/{avatar}/", "/avatars/actors/{actor}/"}


def test_main_pages_fit_a_phone_in_english_and_korean(af_server, new_context, artifacts):
    email = f"walker-{uuid.uuid4().hex[:8]}@example.com"
    af_server.create_users([email])
    made = af_server.create_vrm_actor(email)
    ctx = new_context()
    page = harness.login(ctx, af_server.base_url, email)
    page.set_viewport_size(PHONE)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    problems = []
    for lang in ("en", "ko"):
        ctx.add_cookies([{"name": "django_language", "value": lang, "url": af_server.base_url}])
        for template in PAGES:
            path = template.format(avatar=made["avatar"], actor=made["actor"])
            page.goto(af_server.base_url + path)
            page.wait_for_load_state("load")
            page.wait_for_timeout(300)  # scripts lay the page out
            width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            if width[0] > width[1]:
                problems.append(f"{lang} {path}: {width[0]} px wide on a {width[1]} px screen")
                page.screenshot(path=str(artifacts / f"walk-overflow-{lang}{path.replace('/', '_')}.png"), full_page=True)
            if lang == "ko" and template not in NAMED:
                h1 = page.inner_text("main h1").strip()
                if not HANGUL.search(h1):
                    problems.append(f"ko {path}: heading not in Korean: {h1!r}")
            if errors:
                problems.append(f"{lang} {path}: page errors {errors}")
                errors.clear()
    assert problems == []
