"""The actor editor's live preview in Chromium with the fake camera: your tracked face drives the
avatar through the sliders and curves as they stand in the form (before saving), sensitivity
boosts above 1.0, and a boosted setting saves (the server accepts up to 2.0)."""
from __future__ import annotations

import json
import uuid

from . import harness

SET_RANGE = """([id, value]) => { const r = document.getElementById(id); r.value = value;
  r.dispatchEvent(new Event('input', {bubbles: true})); }"""


def test_actor_editor_previews_your_face_through_the_settings(af_server, new_context, artifacts):
    email = f"ivy-{uuid.uuid4().hex[:8]}@example.com"
    af_server.create_users([email])
    actor = af_server.create_vrm_actor(email)
    page = harness.login(new_context(), af_server.base_url, email)
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(f"{af_server.base_url}/avatars/actors/{actor['actor']}/")
    assert page.get_attribute("#sens-mouth", "max") == "2.0"
    page.wait_for_function("() => window.__afActorPreview.viewerReady", timeout=60_000)

    page.click("#actor-live-toggle")
    page.wait_for_function("() => window.__afActorPreview.faces > 10", timeout=60_000)
    assert page.get_attribute("#actor-live-toggle", "aria-pressed") == "true"
    # The fixture face smiles: at sensitivity 1 the avatar smiles as much as the face.
    page.wait_for_function(
        "() => { const f = window.__afActorPreview.frame(); return f.raw.mouthSmileLeft > 0.5"
        " && Math.abs(f.out.mouthSmileLeft - f.raw.mouthSmileLeft) < 1e-6 && f.weights.happy > 0.3; }"
    )

    # Mouth sensitivity 0, not saved: the avatar's mouth freezes while the face still smiles.
    page.evaluate(SET_RANGE, ["sens-mouth", "0"])
    page.wait_for_function(
        "() => { const f = window.__afActorPreview.frame(); return f.raw.mouthSmileLeft > 0.5"
        " && f.out.mouthSmileLeft === 0 && f.out.jawOpen === 0 && f.weights.happy === 0; }"
    )

    # Boost: gaze and eyebrows at 2.0 double small movements (a frame where one is under 0.5).
    page.evaluate(SET_RANGE, ["sens-gaze", "2"])
    page.evaluate(SET_RANGE, ["sens-eyebrows", "2"])
    page.wait_for_function(
        """() => { const f = window.__afActorPreview.frame();
          const names = Object.keys(f.raw).filter((n) => n.startsWith('eyeLook') || n.startsWith('brow'));
          const ok = names.every((n) => Math.abs(f.out[n] - Math.min(1, 2 * f.raw[n])) < 1e-5);
          return ok && names.some((n) => f.raw[n] > 0.02 && f.raw[n] < 0.5); }"""
    )

    # A curve typed as JSON applies at once: the smile at most 0.25 whatever the face does.
    page.evaluate(SET_RANGE, ["sens-mouth", "1.5"])
    page.evaluate(
        """(json) => { const t = document.getElementById('curves-json'); t.value = json;
          t.dispatchEvent(new Event('change', {bubbles: true})); }""",
        json.dumps({"mouthSmileLeft": {"inMin": 0, "inMax": 1, "outMin": 0, "outMax": 0.25, "gamma": 1}}),
    )
    page.wait_for_function(
        "() => { const f = window.__afActorPreview.frame(); return f.raw.mouthSmileLeft > 0.5"
        " && Math.abs(f.out.mouthSmileLeft - 0.25 * Math.min(1, 1.5 * f.raw.mouthSmileLeft)) < 1e-5; }"
    )
    page.wait_for_selector("#actor-live-readout tr[data-shape=mouthSmileLeft]")
    page.screenshot(path=str(artifacts / "actor_live_preview.png"), full_page=True)

    # On a phone, scrolled down to the sliders, the live preview floats in a corner of the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.evaluate("() => document.getElementById('sens-mouth').scrollIntoView()")
    page.wait_for_function("() => document.querySelector('.av-stage').classList.contains('floating')")
    stage = page.evaluate("() => document.querySelector('.av-stage').getBoundingClientRect().toJSON()")
    assert stage["width"] >= 100 and 0 <= stage["top"] and stage["bottom"] <= 844 and stage["right"] <= 390, stage
    page.screenshot(path=str(artifacts / "actor_live_preview_phone_sliders.png"))
    page.evaluate("() => window.scrollTo(0, 0)")
    page.wait_for_function("() => !document.querySelector('.av-stage').classList.contains('floating')")
    page.set_viewport_size({"width": 1280, "height": 720})

    page.click("#actor-live-toggle")
    page.wait_for_function("() => !window.__afActorPreview.running")

    # Saving keeps the boost (1.5 is within the documented 0-2.0).
    with page.expect_navigation():
        page.click("#actor-form button[type=submit]")
    assert page.locator(".form-errors").count() == 0
    assert float(page.input_value("#sens-mouth")) == 1.5
    saved = af_server.manage_python(
        "import json\nfrom characters.models import Actor\n"
        f"print(json.dumps(Actor.objects.get(pk={actor['actor']}).settings))\n"
    )
    assert saved["sensitivity"] == {"gaze": 2.0, "eyebrows": 2.0, "mouth": 1.5}
    assert saved["curves"]["mouthSmileLeft"]["outMax"] == 0.25
    assert errors == []
