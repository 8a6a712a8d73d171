"""The call holds when one side leaves or reloads (issue 15, items 1-4), in real Chromium: two
people on the real pages and signaling. The one who stays is never sent to the lobby; the one
who comes back is in the call again without anyone pressing anything; no page error on either side.

Tracking is off on both sides (idle-animation frames still flow at 30 Hz over "params"): these
tests are about the call's life, and two face trackers would only slow two shared cores down."""
from __future__ import annotations

import time
import uuid

from . import harness

CONNECT_MS = 45_000
FRAMES_MS = 30_000

# Every change of the call-state badge, recorded by the page itself (a MutationObserver reports
# each attribute change, however short the state lasted).
RECORD_STATES = """() => {
  const badge = document.querySelector('[data-el=state]');
  window.__states = [badge.dataset.state];
  new MutationObserver(() => window.__states.push(badge.dataset.state))
    .observe(badge, { attributes: true, attributeFilter: ['data-state'] });
  window.__samePage = true;
}"""


class Person:
    def __init__(self, af_server, new_context, name: str) -> None:
        self.email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
        af_server.create_users([self.email])
        ctx = new_context()
        ctx.add_init_script("try { localStorage.setItem('af.call.camera', 'off'); } catch (e) {}")
        self.page = harness.login(ctx, af_server.base_url, self.email)
        self.errors: list[str] = []
        self.navigations: list[str] = []
        self.page.on("pageerror", lambda err: self.errors.append(str(err)))

    def watch_navigations(self) -> None:
        page = self.page
        page.on("framenavigated", lambda frame: frame == page.main_frame and self.navigations.append(frame.url))

    def wait_state(self, state: str, timeout: int = CONNECT_MS) -> None:
        self.page.wait_for_function(f"() => window.__afStats && window.__afStats.state === {state!r}", timeout=timeout)

    def wait_frames(self, n: int = 30) -> None:
        """`n` new parameter frames from the other side, after resetting the counters."""
        self.page.evaluate("() => window.__afStats.resetSamples()")
        self.page.wait_for_function(f"() => window.__afStats.framesReceived >= {n}", timeout=FRAMES_MS)

    def stats(self) -> dict:
        return harness.stats(self.page)


def _in_call(af_server, new_context) -> tuple[str, Person, Person]:
    ann, ben = Person(af_server, new_context, "ann"), Person(af_server, new_context, "ben")
    code = harness.create_room(ann.page, af_server.base_url, title="Holding call")
    harness.enter_call(ann.page, af_server.base_url, code)
    harness.join_by_code(ben.page, af_server.base_url, code)
    harness.enter_call(ben.page, af_server.base_url, code)
    for person in (ann, ben):
        person.wait_state("connected")
    ann.wait_frames()
    ben.wait_frames()
    return code, ann, ben


def _no_page_errors(*people: Person) -> None:
    for person in people:
        assert person.errors == [], (person.email, person.errors)


def test_hang_up_leaves_the_other_waiting_and_a_comeback_reconnects_both(af_server, new_context, artifacts):
    code, ann, ben = _in_call(af_server, new_context)
    ann.page.evaluate(RECORD_STATES)
    ann.watch_navigations()
    call_url = ann.page.url

    ben.page.click("[data-el=hangup]")
    ben.page.wait_for_url(f"{af_server.base_url}/rooms/{code}/lobby/")
    ann.wait_state("waiting")
    assert ann.page.locator("[data-code=peer_left]").is_visible()
    overlay = ann.page.locator("[data-el=remote-overlay]")
    assert overlay.is_visible() and "Waiting for the other person" in overlay.text_content()
    ann.page.screenshot(path=str(artifacts / "call_hold_waiting.png"), full_page=True)

    # Ben comes back through the lobby's "enter call"; Ann presses nothing.
    harness.enter_call(ben.page, af_server.base_url, code)
    for person in (ann, ben):
        person.wait_state("connected")
    ben.wait_frames()
    ann.wait_frames()
    assert ann.stats()["remoteKind"] == "2d" and ben.stats()["remoteKind"] == "2d"
    assert not ann.page.locator("[data-code=peer_left]").count()  # cleared by the comeback

    # Ann never left the call page: no navigation, same document, same URL.
    assert ann.navigations == [] and ann.page.url == call_url
    assert ann.page.evaluate("() => window.__samePage === true")
    states = ann.page.evaluate("() => window.__states")
    assert "waiting" in states and states[-1] == "connected", states
    # Ben can leave and come back again (a second round on the same page of Ann's).
    ben.page.click("[data-el=hangup]")
    ann.wait_state("waiting")
    harness.enter_call(ben.page, af_server.base_url, code)
    ann.wait_state("connected")
    ann.wait_frames()
    assert ann.navigations == []
    _no_page_errors(ann, ben)


def test_a_reload_resumes_the_same_call_for_both(af_server, new_context, artifacts):
    code, ann, ben = _in_call(af_server, new_context)
    ann.page.evaluate(RECORD_STATES)
    ann.watch_navigations()
    peer_id = ben.page.evaluate("() => window.__afCall.session.joined.peer_id")

    started = time.monotonic()
    ben.page.reload()  # F5
    ben.page.wait_for_function("() => window.__afStats !== undefined")
    for person in (ann, ben):
        person.wait_state("connected")
    resumed_after = time.monotonic() - started
    # The same seat (resumed), frames flowing again both ways: the remote avatars move.
    joined = ben.page.evaluate("() => window.__afCall.session.joined")
    assert joined["resumed"] is True and joined["peer_id"] == peer_id
    ann.wait_frames()
    ben.wait_frames()
    frames = ann.stats()["remoteFrames"]
    ann.page.wait_for_function(f"() => window.__afStats.remoteFrames > {frames}")  # the remote view draws them

    states = ann.page.evaluate("() => window.__states")
    assert "reconnecting" in states and "waiting" not in states, states  # "Reconnecting...", never the lobby
    assert ann.navigations == [] and ann.page.evaluate("() => window.__samePage === true")
    assert "peer_left" not in ann.stats()["messages"]
    print(f"reload: both connected again {resumed_after:.1f} s after F5 (page load included)")

    # A second reload, this time of the other side.
    ann.page.reload()
    ann.page.wait_for_function("() => window.__afStats !== undefined")
    for person in (ann, ben):
        person.wait_state("connected")
    ben.wait_frames()
    ann.wait_frames()
    ann.page.screenshot(path=str(artifacts / "call_hold_reloaded.png"), full_page=True)
    _no_page_errors(ann, ben)


def test_practice_partner_right_after_the_other_dropped(af_server, new_context, artifacts):
    code, ann, ben = _in_call(af_server, new_context)
    ann.page.evaluate(RECORD_STATES)
    ben.page.context.close()  # Ben's window is gone without Hang up: his seat is held
    ann.wait_state("reconnecting")
    assert "peer_disconnected" in ann.stats()["messages"]

    ann.page.click("[data-el=practice]")  # within the grace period
    ann.wait_state("connected", timeout=60_000)
    ann.page.wait_for_function(
        "() => document.querySelector('[data-el=remote-name]').textContent.trim() === 'Practice partner'"
    )
    # The partner stays: our own frames keep coming back, the call stays connected.
    ann.wait_frames(60)
    ann.wait_frames(60)
    s = ann.stats()
    assert s["state"] == "connected" and s["framesReceived"] >= 60, s
    assert "room_full" not in s["messages"]
    states = ann.page.evaluate("() => window.__states")
    assert states[-1] == "connected" and "failed" not in states, states
    ann.page.screenshot(path=str(artifacts / "call_hold_practice.png"), full_page=True)
    _no_page_errors(ann)
    ann.page.click("[data-el=hangup]")
    ann.page.wait_for_url(f"{af_server.base_url}/rooms/{code}/lobby/")
    _no_page_errors(ann)
