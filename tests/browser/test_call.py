"""Avatar calls in real headless Chromium: two people (two browser contexts) join one room through
the real pages and signaling, track the fake camera's face, exchange parameter frames peer to
peer and hang up. The assertions read the page's measurement hooks (window.__afStats)."""
from __future__ import annotations

import statistics
import uuid

from . import harness

CONNECT_MS = 45_000


def _people(af_server, new_context, n=2, *, camera=(True, True), avatar=None):
    emails = [f"{name}-{uuid.uuid4().hex[:8]}@example.com" for name in ("ann", "ben", "cid")[:n]]
    af_server.create_users(emails)
    pages = []
    for i, email in enumerate(emails):
        ctx = new_context()
        prefs = {}
        if not camera[i]:
            prefs["af.call.camera"] = "off"
        if avatar and avatar[i]:
            prefs["af.call.avatar"] = avatar[i]
        if prefs:
            items = "".join(f"localStorage.setItem({k!r}, {v!r});" for k, v in prefs.items())
            ctx.add_init_script(f"try {{ {items} }} catch (e) {{}}")
        page = harness.login(ctx, af_server.base_url, email)
        page.on("pageerror", lambda err, who=email: print(f"[{who}] page error: {err}"))
        pages.append(page)
    return emails, pages


def _enter_same_room(af_server, a, b) -> str:
    code = harness.create_room(a, af_server.base_url, title="Avatar call test")
    harness.enter_call(a, af_server.base_url, code)
    harness.join_by_code(b, af_server.base_url, code)  # the real join-by-code form
    assert b.url.endswith(f"/rooms/{code}/lobby/")
    harness.enter_call(b, af_server.base_url, code)
    for page in (a, b):
        page.wait_for_function("() => window.__afStats.state === 'connected'", timeout=CONNECT_MS)
    return code


def _hang_up(af_server, code, caller, other) -> None:
    caller.click("[data-el=hangup]")
    caller.wait_for_url(f"{af_server.base_url}/rooms/{code}/lobby/")
    # Told by the server (peer_left), the other stays on the call page and waits for a comeback
    # (tests/browser/test_call_holds.py).
    other.wait_for_function("() => window.__afStats.state === 'waiting'")
    assert other.url == f"{af_server.base_url}/rooms/{code}/"


def _assert_no_video(page) -> None:
    s = harness.stats(page)
    assert "video" not in s["senderKinds"], s["senderKinds"]
    assert "video" not in s["transceiverKinds"], s["transceiverKinds"]
    # Independently of the app's hooks: every RTCPeerConnection the page made carries no video.
    assert s["senderKinds"], "expected the microphone as an audio sender"


def test_two_people_call_with_2d_avatars(af_server, new_context, artifacts):
    _, (ann, ben) = _people(af_server, new_context)
    code = _enter_same_room(af_server, ann, ben)

    # Let frames flow: Ann receives Ben's tracked face (both sides track the fake camera).
    harness.reset_samples_once_tracking(ann, ben)
    ann.wait_for_function("() => window.__afStats.recvRoll.length >= 120", timeout=60_000)
    a, b = harness.stats(ann), harness.stats(ben)

    assert a["framesReceived"] >= 120
    assert a["faceFramesReceived"] / a["framesReceived"] >= 0.9, a
    # Ben's camera face rolls about +-12 degrees: Ann's decoded roll follows his raw tracked roll.
    xs, ys = harness.wait_for_roll_pairs(ben, ann, 60)
    assert len(xs) >= 60, (len(xs), len(a["recvRoll"]), len(b["sentRoll"]))
    assert harness.pearson(xs, ys) > 0.9
    assert max(ys) - min(ys) > 0.2  # radians: the roll really swings
    # The fixture face smiles.
    assert statistics.mean(a["recvSmile"]) > 0.6
    # Latency was measured on received frames and clocks were synchronized over "control".
    assert len(a["latency"]) >= 60 and a["clockSynced"]
    assert a["frameBytes"] == 72
    assert a["remoteKind"] == "2d" and a["localKind"] == "2d"
    assert a["trackerMode"] == "stream"  # tracking runs in the worker, fed by the track processor
    for page in (ann, ben):
        _assert_no_video(page)

    # The stats panel shows real numbers.
    assert ann.text_content("[data-el=stat-connection]").strip() == "Connected"
    assert "ms" in ann.text_content("[data-el=stat-latency]")
    assert ann.text_content("[data-el=remote-name]").strip()  # the other person's name
    ann.screenshot(path=str(artifacts / "call_2d_receiver.png"), full_page=True)
    ben.screenshot(path=str(artifacts / "call_2d_sender.png"), full_page=True)

    # A third person is refused with the room-full message.
    (cid_email,) = [f"cid-{uuid.uuid4().hex[:8]}@example.com"]
    af_server.create_users([cid_email])
    ctx = new_context()
    ctx.add_init_script("try { localStorage.setItem('af.call.camera', 'off'); } catch (e) {}")
    cid = harness.login(ctx, af_server.base_url, cid_email)
    harness.enter_call(cid, af_server.base_url, code)
    cid.wait_for_function("() => window.__afStats.messages.includes('room_full')")
    assert cid.locator("[data-code=room_full]").is_visible()
    assert harness.stats(ann)["state"] == "connected"

    _hang_up(af_server, code, ben, ann)


def test_call_with_vrm_actor(af_server, new_context, artifacts):
    (ann_email, _), (ann, ben) = _people(af_server, new_context, camera=(True, False))
    actor = af_server.create_vrm_actor(ann_email)
    code = _enter_same_room(af_server, ann, ben)

    # Ann switches to her VRM actor during the call; Ben gets the file peer to peer and shows it.
    ann.select_option("#call-avatar", f"actor:{actor['actor']}")
    ann.wait_for_function("() => window.__afStats.localKind === 'vrm'", timeout=60_000)
    ben.wait_for_function("() => window.__afStats.remoteKind === 'vrm'", timeout=60_000)
    assert harness.stats(ben)["remoteAvatar"]["fileHash"] == actor["file_hash"]
    harness.reset_samples_once_tracking(ben, ann)
    ben.wait_for_function("() => window.__afStats.recvRoll.length >= 90", timeout=60_000)
    a, b = harness.stats(ann), harness.stats(ben)
    summary = {k: a[k] for k in ("trackingFps", "trackingResults", "trackingFaces", "renderFpsLocal")}
    assert b["faceFramesReceived"] / b["framesReceived"] >= 0.9, (summary, b["renderFpsRemote"])
    xs, ys = harness.wait_for_roll_pairs(ann, ben, 45)
    assert len(xs) >= 45 and harness.pearson(xs, ys) > 0.9
    assert statistics.mean(b["recvSmile"]) > 0.6
    assert b["renderFpsRemote"] > 0  # the VRM view keeps drawing
    # The other person sees the avatar's conditions of use (Godette: CC-BY, credit required).
    title = ben.text_content("[data-el=remote-license] .license-title")
    assert title.endswith(" · CC BY · SirRichard94"), title  # license name (VRM 0.x "CC_BY" as people write it) and author
    for page in (ann, ben):
        _assert_no_video(page)
    ann.screenshot(path=str(artifacts / "call_vrm_sender.png"), full_page=True)
    ben.screenshot(path=str(artifacts / "call_vrm_receiver.png"), full_page=True)
    _hang_up(af_server, code, ann, ben)


def test_vrm_falls_back_to_2d_without_webgl(af_server, new_context, artifacts):
    email = f"dee-{uuid.uuid4().hex[:8]}@example.com"
    af_server.create_users([email])
    actor = af_server.create_vrm_actor(email)
    ctx = new_context()
    # A browser without WebGL: every WebGL context request fails.
    ctx.add_init_script(
        "const orig = HTMLCanvasElement.prototype.getContext;"
        "HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {"
        "  return /webgl/.test(kind) ? null : orig.call(this, kind, ...rest); };"
        "try { localStorage.setItem('af.call.camera', 'off');"
        f" localStorage.setItem('af.call.avatar', 'actor:{actor['actor']}'); }} catch (e) {{}}"
    )
    page = harness.login(ctx, af_server.base_url, email)
    code = harness.create_room(page, af_server.base_url)
    harness.enter_call(page, af_server.base_url, code)
    page.wait_for_function("() => window.__afStats.messages.includes('webgl_unavailable')")
    s = harness.stats(page)
    assert s["localKind"] == "2d"
    assert page.locator("[data-code=webgl_unavailable]").is_visible()
    page.wait_for_selector("[data-el=face-state]", state="visible")  # tracking off: says so
    page.screenshot(path=str(artifacts / "call_webgl_fallback.png"), full_page=True)


def test_camera_refused_says_so_and_avatar_idles(af_server, new_context, artifacts):
    email = f"eve-{uuid.uuid4().hex[:8]}@example.com"
    af_server.create_users([email])
    ctx = new_context()
    # The browser refuses the camera (as when the person clicks "Block"); the microphone works.
    ctx.add_init_script(
        "const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);"
        "navigator.mediaDevices.getUserMedia = (c) => c && c.video"
        "  ? Promise.reject(new DOMException('Permission denied', 'NotAllowedError')) : gum(c);"
    )
    page = harness.login(ctx, af_server.base_url, email)
    code = harness.create_room(page, af_server.base_url)
    harness.enter_call(page, af_server.base_url, code)
    page.wait_for_function("() => window.__afStats.messages.includes('camera_denied')")
    assert "Allow the camera" in page.text_content("[data-code=camera_denied]")
    page.wait_for_selector("[data-el=face-state]", state="visible")
    frames = harness.stats(page)["localFrames"]
    page.wait_for_function(f"() => window.__afStats.localFrames > {frames + 10}")  # the idle avatar keeps moving
    s = harness.stats(page)
    assert s["trackerMode"] == "off" and s["state"] == "waiting"
    page.screenshot(path=str(artifacts / "call_camera_denied.png"), full_page=True)


def test_practice_partner_mirrors_your_avatar(af_server, new_context, artifacts):
    email = f"fay-{uuid.uuid4().hex[:8]}@example.com"
    af_server.create_users([email])
    page = harness.login(new_context(), af_server.base_url, email)
    code = harness.create_room(page, af_server.base_url)
    harness.enter_call(page, af_server.base_url, code)
    page.click("[data-el=practice]")  # the server's aiortc mirror peer joins and sends our frames back
    page.wait_for_function("() => window.__afStats.state === 'connected'", timeout=CONNECT_MS)
    harness.reset_samples_once_tracking(page)
    page.wait_for_function("() => window.__afStats.recvRoll.length >= 60", timeout=60_000)
    s = harness.stats(page)
    assert s["faceFramesReceived"] / s["framesReceived"] >= 0.9
    xs, ys = harness.wait_for_roll_pairs(page, page, 30)
    assert len(xs) >= 30 and harness.pearson(xs, ys) > 0.9
    assert s["remoteKind"] == "2d" and s["latency"]
    assert "video" not in s["senderKinds"] and "video" not in s["transceiverKinds"]
    page.screenshot(path=str(artifacts / "call_practice.png"), full_page=True)
    page.click("[data-el=hangup]")
    page.wait_for_url(f"{af_server.base_url}/rooms/{code}/lobby/")
