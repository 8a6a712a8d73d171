"""Adaptive quality on the call page, in Chromium with the fake camera: the stats panel shows the
level the page chose, and a page over its frame budget steps down the ladder in order (tracking
input size, tracking rate, render resolution, effects) to the floor and stays there.

The budget is the one documented hook, localStorage["af.call.qualityBudget"] (JSON, read when the
page starts; frontend/src/call/quality.js): a lenient budget keeps full quality, {"renderMs": 0}
puts every measured avatar draw over budget. What is judged is the page's real measurement
(draw times of its own avatar views), and what changes is the real tracker and canvas."""
from __future__ import annotations

import json
import uuid

from . import harness

LENIENT = {"trackingFps": 1, "latencyMs": 100000, "renderMs": 100000}
# Every draw over budget; the tracking target of 1 fps is always met, so the draws alone decide
# (on a loaded machine the real tracking rate could otherwise be the reason for a step).
SLOW = {"renderMs": 0, "trackingFps": 1}
FLOOR = 6  # QUALITY_LEVELS.length - 1


def _alone_in_a_call(af_server, new_context, budget: dict, *, language: str = "en", vrm: bool = False):
    email = f"qa-{uuid.uuid4().hex[:8]}@example.com"
    af_server.create_users([email])
    prefs = {"af.call.qualityBudget": json.dumps(budget)}
    if vrm:  # our own VRM actor in the preview: render scale and effects act on three-vrm
        prefs["af.call.avatar"] = f"actor:{af_server.create_vrm_actor(email)['actor']}"
    ctx = new_context()
    ctx.add_cookies([{"name": "django_language", "value": language, "url": af_server.base_url}])
    items = "".join(f"localStorage.setItem({json.dumps(k)}, {json.dumps(v)});" for k, v in prefs.items())
    ctx.add_init_script(f"try {{ {items} }} catch (e) {{}}")
    page = harness.login(ctx, af_server.base_url, email)
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    code = harness.create_room(page, af_server.base_url, title="Quality")
    harness.enter_call(page, af_server.base_url, code)
    return page, errors


def _stage_canvas_and_box(page) -> tuple[int, float]:
    """The local avatar canvas's drawing width and its stage's CSS width."""
    return page.evaluate(
        "() => { const s = document.querySelector('[data-el=local-stage]');"
        " return [s.querySelector('canvas').width, s.getBoundingClientRect().width]; }"
    )


def test_panel_shows_full_quality_within_budget(af_server, new_context, artifacts):
    page, errors = _alone_in_a_call(af_server, new_context, LENIENT)
    page.wait_for_function("() => window.__afStats.trackingFaces > 10", timeout=60_000)
    # The panel has been refreshed with tracking running (it refreshes twice a second).
    page.wait_for_function("() => document.querySelector('[data-el=stat-tracking]').textContent.includes('fps')")
    # It is measuring (a window without a tracker result yet measures nothing; wait for one that has).
    page.wait_for_function("() => { const m = window.__afStats.quality.measured; return !!m && m.trackingFps !== null; }",
                           timeout=60_000)
    q = harness.stats(page)["quality"]
    assert q["level"] == 0 and q["key"] == "full" and q["budget"]["renderMs"] == 100000, q  # it judged: nothing to lower
    assert harness.stats(page)["trackerInput"] == [640, 480]
    cell = page.locator("[data-el=stat-quality]")
    assert cell.text_content().strip() == "1/7 · Full quality"
    assert cell.get_attribute("data-level") == "0"
    assert errors == []


def test_slow_budget_steps_down_in_order_to_the_floor(af_server, new_context, artifacts):
    page, errors = _alone_in_a_call(af_server, new_context, SLOW, vrm=True)
    page.wait_for_function("() => window.__afStats.localKind === 'vrm'", timeout=60_000)
    page.wait_for_function("() => window.__afStats.trackingFaces > 0", timeout=60_000)
    assert page.evaluate("() => window.__afCall.localView.renderer.vrm.springBoneManager !== null")
    # One step every ~5 s (2 s over budget after 2.5 s of settling): the floor within a minute.
    page.wait_for_function(f"() => window.__afStats.qualityLevel === {FLOOR}", timeout=120_000)
    s = harness.stats(page)
    q = s["quality"]
    # Every step was one level down, in the ladder's order, because draws were over the budget.
    assert [(h["level"], h["why"]) for h in q["history"]] == [(n, "render") for n in range(1, FLOOR + 1)], q["history"]
    assert q["key"] == "effects_off"
    assert q["settings"] == {
        "key": "effects_off", "inputWidth": 400, "inputHeight": 300, "trackFps": 24, "renderScale": 0.5, "effects": False,
        "bodyFps": 15,  # this actor tracks no body, so its trackers' rate was never the thing to lower
    }
    # The tracker really gets the smaller image (the camera track is scaled before the worker).
    page.wait_for_function("() => String(window.__afStats.trackerInput) === '400,300'")
    assert s["trackerMode"] == "stream"
    # The avatar is drawn at half the resolution, scaled up by CSS, without effects: the VRM's
    # spring bones (hair) are held still and its outline materials hidden.
    width, box = _stage_canvas_and_box(page)
    assert 64 < box * 0.5 < 320  # a small preview: neither the 64 px minimum nor the 640x480 cap applies
    assert abs(width - box * 0.5) <= 1, (width, box)
    assert page.evaluate(
        "() => { const r = window.__afCall.localView.renderer; let outlines = 0;"
        " r.vrm.scene.traverse((o) => { if (Array.isArray(o.material)) for (const m of o.material) if (m.isOutline && m.visible) outlines++; });"
        " return r.effects === false && r.vrm.springBoneManager === null && r._springs !== null && outlines === 0; }"
    )
    # Tracking goes on at the lowest level.
    faces = harness.stats(page)["trackingFaces"]
    page.wait_for_function(f"() => window.__afStats.trackingFaces > {faces + 10}", timeout=60_000)
    # Never below the floor: still over budget, still the floor, no further change recorded.
    changes = q["changes"]
    page.wait_for_function("() => window.__afStats.quality.measured && window.__afStats.quality.measured.renderMs !== null")
    page.wait_for_timeout(6000)  # longer than one step would take
    q = harness.stats(page)["quality"]
    print("measured at the floor:", q["measured"])
    assert q["level"] == FLOOR and q["changes"] == changes
    cell = page.locator("[data-el=stat-quality]")
    assert cell.text_content().strip() == "7/7 · Effects off (outlines, hair physics)"
    assert cell.get_attribute("data-level") == str(FLOOR)
    page.screenshot(path=str(artifacts / "call_quality_floor.png"), full_page=True)
    assert errors == []


def test_quality_level_is_translated(af_server, new_context, artifacts):
    page, errors = _alone_in_a_call(af_server, new_context, SLOW, language="ko")
    page.wait_for_function("() => document.querySelector('[data-el=stat-quality]').dataset.level >= '1'", timeout=60_000)
    assert page.locator("dt", has_text="품질(자동)").count() == 1
    labels = [
        "최고 품질", "트래킹 입력 480×360", "트래킹 입력 400×300", "트래킹 24fps",
        "아바타 해상도 3/4", "아바타 해상도 절반", "효과 끔(외곽선, 머리카락 물리)",
    ]
    level, text = page.evaluate(
        "() => { const el = document.querySelector('[data-el=stat-quality]'); return [Number(el.dataset.level), el.textContent]; }"
    )
    assert text.strip() == f"{level + 1}/7 · {labels[level]}"
    assert errors == []
