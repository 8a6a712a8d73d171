"""Device pickers and the framing preview on the call page, in Chromium with fake devices: the
pickers list the fake camera and microphones, a chosen microphone is swapped into the running call
and remembered across a reload, a chosen camera restarts tracking on it, and the framing preview
plays your own camera locally while the call still sends no video."""
from __future__ import annotations

import uuid

from . import harness


def _options(page, name: str) -> list[dict]:
    return page.evaluate(
        f"() => [...document.querySelectorAll('[data-el={name}] option')].map(o => ({{id: o.value, label: o.textContent}}))"
    )


def test_device_pickers_and_framing_preview(af_server, new_context, artifacts):
    emails = [f"{n}-{uuid.uuid4().hex[:8]}@example.com" for n in ("ann", "ben")]
    af_server.create_users(emails)
    errors: list[str] = []
    pages = []
    for i, email in enumerate(emails):
        ctx = new_context()
        if i == 1:
            ctx.add_init_script("try { localStorage.setItem('af.call.camera', 'off'); } catch (e) {}")
        page = harness.login(ctx, af_server.base_url, email)
        page.on("pageerror", lambda err, who=email: errors.append(f"[{who}] {err}"))
        pages.append(page)
    ann, ben = pages
    code = harness.create_room(ann, af_server.base_url, title="Devices")
    harness.enter_call(ann, af_server.base_url, code)
    harness.enter_call(ben, af_server.base_url, code)
    for page in (ann, ben):
        page.wait_for_function("() => window.__afStats.state === 'connected'", timeout=45_000)
    ann.wait_for_function("() => window.__afStats.trackingFaces > 0", timeout=60_000)

    # The pickers list Chromium's fake devices by their labels, the ones in use selected.
    ann.wait_for_function("() => document.querySelectorAll('[data-el=mic-select] option').length >= 2")
    cameras, mics = _options(ann, "camera-select"), _options(ann, "mic-select")
    assert [c["label"] for c in cameras] == [str(harness.FACE_MJPEG.resolve())], cameras
    assert {"Fake Audio Input 1", "Fake Audio Input 2"} <= {m["label"] for m in mics}, mics
    s = harness.stats(ann)
    assert ann.input_value("[data-el=camera-select]") == s["cameraDevice"] == cameras[0]["id"]
    assert ann.input_value("[data-el=mic-select]") == s["micDevice"] == s["sentMicDevice"]

    # The framing preview: hidden until asked for, then your own camera playing, never sent.
    assert ann.locator("[data-el=framing]").is_hidden()
    ann.click("[data-el=framing-toggle]")
    ann.wait_for_function("() => window.__afStats.framing.playing && window.__afStats.framing.width > 0")
    t0 = harness.stats(ann)["framing"]["time"]
    ann.wait_for_function(f"() => window.__afStats.framing.time > {t0}")  # frames keep coming
    assert ann.locator("[data-el=framing]").is_visible()
    assert ann.get_attribute("[data-el=framing-toggle]", "aria-pressed") == "true"
    s = harness.stats(ann)
    assert "video" not in s["senderKinds"] and "video" not in s["transceiverKinds"], s["senderKinds"]
    assert "video" not in harness.stats(ben)["transceiverKinds"]
    ann.screenshot(path=str(artifacts / "call_devices_framing.png"), full_page=True)

    # Another microphone: swapped into the running call (no renegotiation) and remembered.
    mic2 = next(m["id"] for m in mics if m["label"] == "Fake Audio Input 2")
    assert s["sentMicDevice"] != mic2
    ann.select_option("[data-el=mic-select]", mic2)
    ann.wait_for_function(f"() => window.__afStats.sentMicDevice === {mic2!r}")
    assert harness.stats(ann)["micDevice"] == mic2
    assert ann.evaluate("() => localStorage.getItem('af.call.micDevice')") == mic2
    assert harness.stats(ann)["state"] == "connected"

    # Choosing the camera restarts tracking on it; the preview follows the new track.
    faces = harness.stats(ann)["trackingFaces"]
    ann.select_option("[data-el=camera-select]", cameras[0]["id"])
    ann.wait_for_function(f"() => window.__afStats.trackingFaces > {faces + 10}", timeout=60_000)
    assert ann.evaluate("() => localStorage.getItem('af.call.cameraDevice')") == cameras[0]["id"]
    ann.wait_for_function("() => window.__afStats.framing.playing")

    # Hidden again on request.
    ann.click("[data-el=framing-toggle]")
    ann.wait_for_function("() => !window.__afStats.framing.on && window.__afStats.framing.hidden")

    # A reload keeps the chosen microphone (and resumes the call).
    ann.reload()
    ann.wait_for_function("() => window.__afStats !== undefined")
    ann.wait_for_function(f"() => window.__afStats.micDevice === {mic2!r}")
    ann.wait_for_function(f"() => document.querySelector('[data-el=mic-select]').value === {mic2!r}")
    ann.wait_for_function("() => window.__afStats.state === 'connected'", timeout=45_000)
    ann.wait_for_function(f"() => window.__afStats.sentMicDevice === {mic2!r}")
    assert errors == []
