"""The actor editor previews body and hands live (issue 18, item 3), in Chromium with the fake
camera playing tests/browser/fixtures/body_wave.mjpeg (the Godette VRM rendered with arms down,
then the left hand raised; body_wave.json). With the actor's body flag on, "Preview with my
camera" starts the pose worker beside the face tracker: the previewed model's left hand bone goes
above its shoulder and down again; ticking Mirror (not saved) moves the raised hand to the
model's right at once; the body slider at 0 holds the torso still; the stats line shows each
tracker's rate. Screenshots at desktop and phone width, in English and Korean."""
from __future__ import annotations

import math
import time
import uuid
from pathlib import Path

from . import harness

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "body_wave.mjpeg"
SET_RANGE = """([id, value]) => { const r = document.getElementById(id); r.value = value;
  r.dispatchEvent(new Event('input', {bubbles: true})); }"""
TOGGLE = """(name) => { const box = document.querySelector(`#actor-form input[name=${name}]`);
  box.checked = !box.checked; box.dispatchEvent(new Event('change', {bubbles: true})); }"""


def _heights(page, seconds: float, enough) -> list[dict]:
    """The previewed model's hand heights above the shoulders, sampled until `enough(samples)`."""
    out: list[dict] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        h = page.evaluate("() => window.__afActorPreview.handHeights()")
        if h:
            out.append(h)
        if enough(out):
            break
        time.sleep(0.2)
    return out


def _after_next_results(page, n: int = 2) -> None:
    """Wait until the pose worker has returned `n` results solved with the form as it is now."""
    count = page.evaluate("() => window.__afActorPreview.bodyResults")
    page.wait_for_function(f"() => window.__afActorPreview.bodyResults > {count + n}", timeout=60_000)


def _torso_angle(body: dict) -> float:
    """The larger of the spine's and chest's rotation angles (radians) in a body section."""
    return max(2 * math.acos(min(1.0, abs(body["bones"][4 * i + 3]))) for i in (0, 1))


def _set_body_flag(af_server, actor_id: int) -> None:
    af_server.manage_python(
        "import json\nfrom characters.models import Actor\n"
        f"a = Actor.objects.get(pk={actor_id})\n"
        "a.settings = {**(a.settings or {}), 'bodyTracking': True}\n"
        "a.save()\nprint(json.dumps({'ok': True}))\n"
    )


def test_actor_editor_previews_arms_with_mirror_and_sensitivity_live(af_server, playwright_driver, artifacts):
    email = f"wave-{uuid.uuid4().hex[:8]}@example.com"
    af_server.create_users([email])
    actor = af_server.create_vrm_actor(email)
    _set_body_flag(af_server, actor["actor"])
    browser = harness.launch_chromium(playwright_driver, fake_video=FIXTURE)
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page = harness.login(context, af_server.base_url, email)
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(f"{af_server.base_url}/avatars/actors/{actor['actor']}/")
        page.wait_for_function("() => window.__afActorPreview.viewerReady", timeout=60_000)
        before = page.evaluate("() => window.__afActorPreview.handHeights()")
        assert before["left"] < -0.1 and before["right"] < -0.1  # relaxed arms before the camera

        page.click("#actor-live-toggle")
        page.wait_for_function("() => window.__afActorPreview.bodyResults > 5", timeout=120_000)
        assert page.evaluate("() => window.__afActorPreview.bodyOn")
        assert not page.evaluate("() => window.__afActorPreview.handsOn")  # the hand flag is off

        # The fixture raises the left hand for 3 s of every 5: the model's left hand goes above
        # its shoulder and comes down again; the right stays down.
        samples = _heights(page, 40, lambda s: sum(h["left"] > 0.05 for h in s) > 3 and sum(h["left"] < -0.1 for h in s) > 3)
        lefts = [h["left"] for h in samples]
        assert max(lefts) > 0.05, f"left hand never above the shoulder: {lefts[-20:]}"
        assert min(lefts) < -0.1, f"left hand never down: {lefts[-20:]}"
        assert max(h["right"] for h in samples) < 0.0

        # Each tracker's rate in the stats line: face and body run, hands are off.
        rates = page.evaluate("() => window.__afActorPreview.rates()")
        assert rates["face"] > 0 and rates["body"] > 0 and rates["hands"] is None, rates
        line = page.inner_text("#actor-live-rates")
        assert "body: off" not in line and "hands: off" in line, line
        page.screenshot(path=str(artifacts / "actor_body_preview.png"), full_page=True)

        # Mirror, ticked and not saved: the same raised hand now lifts the model's right hand.
        page.evaluate(TOGGLE, "mirror")
        _after_next_results(page)
        mirrored = _heights(page, 40, lambda s: sum(h["right"] > 0.05 for h in s) > 3)
        assert max(h["right"] for h in mirrored) > 0.05, f"mirror: right never raised {mirrored[-10:]}"
        assert max(h["left"] for h in mirrored) < 0.0, "mirror: the left hand still rises"

        # Body sensitivity 0 holds spine and chest exactly still (the detector's torso is never
        # exactly upright, so it is not still at 1: checked first, so this can fail).
        torso = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not torso or max(torso) < 1e-3):
            body = page.evaluate("() => window.__afActorPreview.body()")
            torso.append(_torso_angle(body))
            time.sleep(0.2)
        assert max(torso) >= 1e-3, torso
        page.evaluate(SET_RANGE, ["sens-body", "0"])
        _after_next_results(page)
        still = []
        for _ in range(10):
            still.append(_torso_angle(page.evaluate("() => window.__afActorPreview.body()")))
            time.sleep(0.15)
        assert max(still) < 1e-6, still

        # Body flag off, not saved: the pose worker stops and the arms go back to rest.
        page.evaluate(TOGGLE, "bodyTracking")
        page.wait_for_function("() => !window.__afActorPreview.bodyOn")
        rest = page.evaluate("() => window.__afActorPreview.handHeights()")
        assert rest["left"] < -0.1 and rest["right"] < -0.1, rest
        page.click("#actor-live-toggle")
        page.wait_for_function("() => !window.__afActorPreview.running")
        assert errors == []
    finally:
        browser.close()


def test_actor_editor_body_preview_screens(af_server, playwright_driver, artifacts):
    """The preview with its tracker rates at desktop and phone width, in English and Korean."""
    email = f"screen-{uuid.uuid4().hex[:8]}@example.com"
    af_server.create_users([email])
    actor = af_server.create_vrm_actor(email)
    _set_body_flag(af_server, actor["actor"])
    browser = harness.launch_chromium(playwright_driver, fake_video=FIXTURE)
    try:
        for language, width in (("en", 1280), ("ko", 1280), ("en", 390), ("ko", 390)):
            context = browser.new_context(viewport={"width": width, "height": 860 if width > 600 else 844})
            context.add_cookies([{"name": "django_language", "value": language, "url": af_server.base_url}])
            page = harness.login(context, af_server.base_url, email)
            page.goto(f"{af_server.base_url}/avatars/actors/{actor['actor']}/")
            page.wait_for_function("() => window.__afActorPreview.viewerReady", timeout=60_000)
            page.click("#actor-live-toggle")
            page.wait_for_function("() => window.__afActorPreview.bodyResults > 5", timeout=120_000)
            page.wait_for_function("() => document.getElementById('actor-live-rates').dataset.body === 'on'")
            line = page.inner_text("#actor-live-rates")
            if language == "ko":
                assert "페이스 트래킹" in line and "바디" in line, line
            # Nothing sticks out sideways at phone width.
            assert page.evaluate("() => document.documentElement.scrollWidth") <= width
            page.locator("#actor-live").scroll_into_view_if_needed()
            page.screenshot(path=str(artifacts / f"actor_body_preview-{language}-{width}.png"), full_page=True)
            page.click("#actor-live-toggle")
            context.close()
    finally:
        browser.close()
