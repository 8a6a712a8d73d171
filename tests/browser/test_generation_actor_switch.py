"""“Use as my avatar” on a generated avatar when the plan's actor slots are full, in real Chromium:
instead of stopping at an error, the page offers to switch one of the user's actors to the new
avatar; the switch happens and the actors page shows it. English and Korean, desktop and phone."""
from __future__ import annotations

import pytest

from . import harness

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
TEXT = {
    "en": {"full": "actor slots are full (1 of 1)", "switch": "Switch to", "done": "now uses"},
    "ko": {"full": "액터 슬롯이 가득 차서(1개 중 1개)", "switch": "(으)로 바꾸기", "done": "아바타를 써요"},
}


def _seed(af_server, email: str) -> dict:
    """A free-plan user whose one actor slot is taken, and a finished generation job (run inline)."""
    af_server.create_users([email])
    af_server.create_vrm_actor(email, name="Stage me")
    return af_server.manage_python(
        "import json\n"
        "from accounts.models import User\n"
        "from generation import services\n"
        "from generation.pipeline import run_job\n"
        "from generation.serializers import clean_options\n"
        "from tests.generation.conftest import make_drawing\n"
        "services.enqueue = lambda job_id: None  # run below, in this process\n"
        f"u = User.objects.get(email={email!r})\n"
        "job = services.create_job(owner=u, photo=make_drawing(), filename='house.png', options=clean_options({'name': 'Fresh chibi'}))\n"
        "outcome = run_job(job_id=str(job.id))\n"
        "job.refresh_from_db()\n"
        "print(json.dumps({'job': str(job.id), 'outcome': outcome, 'avatar': str(job.avatar_id), 'actor': u.actors.get().pk}))\n",
        timeout=300,
    )


def _fits(page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"
    box = page.locator("#gen-switch-submit").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]


@pytest.mark.parametrize("language", ["en", "ko"])
def test_full_actor_slots_offer_to_switch_an_actor_to_the_new_avatar(af_server, new_context, artifacts, language):
    email = f"switch-{language}@example.com"
    seeded = _seed(af_server, email)
    assert seeded["outcome"] == "succeeded"
    text = TEXT[language]
    context = new_context()
    context.add_cookies([{"name": "django_language", "value": language, "url": af_server.base_url}])
    page = harness.login(context, af_server.base_url, email)
    page.goto(f"{af_server.base_url}/generate/{seeded['job']}/")
    page.locator("#gen-avatar-links button[type=submit]").click()

    # Not a dead end: the switch page, with the user's one actor to choose.
    page.wait_for_selector("#gen-actor-switch")
    assert page.url.endswith(f"/generate/{seeded['job']}/actor")
    assert text["full"] in page.locator("#gen-switch-full").inner_text()
    choice = page.locator(f"input[name=replace_actor][value='{seeded['actor']}']")
    assert choice.is_checked()
    assert "Stage me" in page.locator(".gen-switch-choice").inner_text()
    assert text["switch"] in page.locator("#gen-switch-submit").inner_text()
    _fits(page)
    page.screenshot(path=str(artifacts / f"generation_actor_switch_desktop_{language}.png"), full_page=True)
    page.set_viewport_size(PHONE)
    _fits(page)
    page.screenshot(path=str(artifacts / f"generation_actor_switch_phone_{language}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)

    page.locator("#gen-switch-submit").click()
    page.wait_for_load_state("load")
    assert text["done"] in page.locator("body").inner_text()
    after = af_server.manage_python(
        "import json\n"
        "from characters.models import Actor\n"
        f"a = Actor.objects.get(pk={seeded['actor']})\n"
        "print(json.dumps({'avatar': str(a.avatar_id), 'name': a.name, 'count': Actor.objects.filter(owner=a.owner).count()}))\n"
    )
    assert after == {"avatar": seeded["avatar"], "name": "Stage me", "count": 1}
