"""Benchmark of an avatar call in real headless Chromium: two people, fake camera, 20 s, then the
bare engines alone, then the same call again beside a CPU hog.

    python -m bench.browser_call [--seconds 20] [--bare-seconds 8]

Two Chromium processes (two people, each with their own GPU process) join one room on a real
Daphne (tests/browser/harness.py). The sender tracks the fake camera (../shared/fixtures/camera/
face.mjpeg, a smiling face rolling about +-12 degrees) and sends parameter frames; the receiver
has its camera off so the machine's two cores go to one tracker and one remote renderer. First
half: the sender shows a built-in 2D avatar; second half: it switches to a VRM actor (the Godette
fixture, sent peer to peer) and the receiver renders it at up to 640x480 under software GL.
Both pages run their adaptive quality (frontend/src/call/quality.js) as users get it.

Render fps counts real draws of the remote canvas (the VRM at 640x480); draws that would repeat
the same picture are skipped by the page and not counted.

Then, alone on the machine, the bare engines (bench/bare_pages.py), each in one Chromium page:
FaceLandmarker through the call's own FaceTracker at the input size the call starts with, and
three-vrm drawing the same avatar at the size the call starts with under the call's 30 fps cap
for a remote VRM. Last, the whole call again while a busy-loop process takes one core.

Prints (numbers read from the pages' window.__afStats):
    FIGURE tracking_fps <n> fps                  sender's face tracker results per second (goal >= 30)
    FIGURE face_frames_pct <n> %                 received frames that carry a face (goal >= 95)
    FIGURE render_fps_2d <n> fps                 receiver's 2D remote avatar (goal >= 55)
    FIGURE render_fps_vrm <n> fps                receiver's VRM remote avatar (goal >= 20); drawn once per
                                                 new frame, so at most the sender's tracking rate
    FIGURE capture_to_render_ms_p50 <n> ms       sender camera frame (its capture time) -> first remote
    FIGURE capture_to_render_ms_p95 <n> ms       draw showing it (goal p95 < 60; clocks synced over "control")
    FIGURE frame_bytes <n> bytes                 one parameter frame on the DataChannel (<= 80)
    FIGURE cpu_pct_sender <n> %                  CPU of each page's Chromium renderer processes (page,
    FIGURE cpu_pct_receiver <n> %                tracker worker, 2D canvas) over the call, as a share of
    FIGURE cpu_pct <n> %                         the whole machine (100 % = all cores); cpu_pct: their
                                                 mean (seed KPI <= 60 %). GPU processes: "#" lines.
    FIGURE tracking_fps_bare <n> fps             FaceLandmarker alone in one page
    FIGURE render_fps_vrm_bare <n> fps           three-vrm alone, same avatar, size and cap
    FIGURE tracking_efficiency_pct <n> %         100 x tracking_fps / tracking_fps_bare (goal >= 85)
    FIGURE render_efficiency_pct <n> %           100 x render_fps_vrm / render_fps_vrm_bare (goal >= 85)
    FIGURE tracking_fps_loaded <n> fps           tracking_fps while a CPU hog takes one core (goal >= 24)
    FIGURE capture_to_render_ms_p95_loaded <n> ms  the same, capture to render p95 (goal < 150)

Then body and hands (issue 18): two more calls whose sender's camera plays the rendered body
fixture (tests/browser/fixtures/body_wave.mjpeg) with the Godette actor, first with body and hand
tracking off, then on (pose and hands workers beside the face tracker):
    FIGURE body_tracking_fps <n> fps             pose results per second (the body section's rate, 15 asked)
    FIGURE hand_tracking_fps <n> fps             hand tracker results per second
    FIGURE frame_bytes_v2 <n> bytes              the largest frame received: version 2 with the body (goal <= 200)
    FIGURE face_fps_kept_pct <n> %               100 x face tracking_fps with body/hands / without (goal >= 90)
`--body-only` runs just these two calls.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.browser import harness

from . import bare_pages
from .chromium_cpu import launch_measured, pct_of_machine
from .servers import free_port, start_redis

REMOTE_VRM_MAX_FPS = 30  # frontend/src/call/app.js REMOTE_MAX_FPS.vrm: the bare VRM page draws under the same cap


def _percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))]


def _wait(page, expression: str, timeout_ms: int = 60_000) -> None:
    page.wait_for_function(expression, timeout=timeout_ms)


def _phase(sender, receiver, seconds: float) -> dict:
    """Measure for `seconds`: counters before/after, samples gathered in between."""
    receiver.evaluate("() => window.__afStats.resetSamples()")
    s0, r0 = harness.stats(sender), harness.stats(receiver)
    t0 = time.monotonic()
    time.sleep(seconds)
    s1, r1 = harness.stats(sender), harness.stats(receiver)
    dt = time.monotonic() - t0
    results = max(1, s1["trackingResults"] - s0["trackingResults"])
    return {
        "tracking_fps": (s1["trackingResults"] - s0["trackingResults"]) / dt,
        # Where a tracking result's time goes: the frame waits for the tracker, then detection.
        "detect_ms": (s1["trackingProcMs"] - s0["trackingProcMs"]) / results,
        "frame_wait_ms": (s1["trackingQueueMs"] - s0["trackingQueueMs"]) / results,
        "local_fps": (s1["localFrames"] - s0["localFrames"]) / dt,
        "render_fps": (r1["remoteFrames"] - r0["remoteFrames"]) / dt,
        "frames": r1["framesReceived"],
        "face_frames": r1["faceFramesReceived"],
        "latency": r1["latency"],
        "arrival": r1["arrival"],
        "frame_bytes": r1["frameBytes"],
        "remote_kind": r1["remoteKind"],
    }


def _call(p, server, actor: dict, seconds: float) -> dict:
    """One call as the module docstring says: two halves measured, CPU of both pages over them."""
    sender_email, receiver_email = "bench-sender@example.com", "bench-receiver@example.com"
    launched = [launch_measured(lambda: harness.launch_chromium(p)) for _ in range(2)]
    browsers = [b for b, _ in launched]
    cpus = [c for _, c in launched]
    try:
        contexts = [b.new_context(viewport={"width": 1280, "height": 860}) for b in browsers]
        contexts[0].add_init_script("localStorage.setItem('af.call.avatar', 'builtin:fox');")
        contexts[1].add_init_script("localStorage.setItem('af.call.camera', 'off');")
        sender = harness.login(contexts[0], server.base_url, sender_email)
        receiver = harness.login(contexts[1], server.base_url, receiver_email)
        code = harness.create_room(sender, server.base_url, title="bench")
        harness.enter_call(sender, server.base_url, code)
        harness.enter_call(receiver, server.base_url, code)
        for page in (sender, receiver):
            _wait(page, "() => window.__afStats.state === 'connected'")
        _wait(receiver, "() => window.__afStats.clockSynced && window.__afStats.faceFramesReceived > 30")
        half = seconds / 2
        for c in cpus:
            c.start()
        two_d = _phase(sender, receiver, half)
        sender.select_option("#call-avatar", f"actor:{actor['actor']}")
        _wait(receiver, "() => window.__afStats.remoteKind === 'vrm'")
        time.sleep(1.0)  # first draws compile shaders
        # The remote VRM canvas at the call's first quality level (the level may have stepped down).
        w, h, scale = receiver.evaluate(
            "() => { const c = document.querySelector('[data-el=remote-stage] canvas');"
            " return [c.width, c.height, window.__afStats.quality.settings.renderScale]; }"
        )
        vrm = _phase(sender, receiver, half)
        cpu = [c.stop() for c in cpus]
        levels = harness.stats(sender)["qualityLevels"]
        quality = [harness.stats(page)["quality"] for page in (sender, receiver)]
    finally:
        for b in browsers:
            b.close()
    return {
        "two_d": two_d, "vrm": vrm, "cpu": cpu, "quality": quality, "start_level": levels[0],
        "vrm_canvas": (round(w / scale), round(h / scale)),
    }  # fmt: skip


def _summary(call: dict) -> dict | None:
    two_d, vrm = call["two_d"], call["vrm"]
    frames = two_d["frames"] + vrm["frames"]
    latency = two_d["latency"] + vrm["latency"]
    if not latency or not frames:
        return None
    return {
        "tracking_fps": statistics.mean([two_d["tracking_fps"], vrm["tracking_fps"]]),
        "face_frames_pct": 100 * (two_d["face_frames"] + vrm["face_frames"]) / frames,
        "p50": _percentile(latency, 50), "p95": _percentile(latency, 95),
    }  # fmt: skip


def _report_phases(label: str, call: dict) -> None:
    for name, ph in (("2d", call["two_d"]), ("vrm", call["vrm"])):
        if ph["latency"]:
            print(
                f"# {label} {name} half: tracking {ph['tracking_fps']:.1f} fps (detect {ph['detect_ms']:.0f} ms, frame wait "
                f"{ph['frame_wait_ms']:.0f} ms), render {ph['render_fps']:.1f} fps (sender's own preview "
                f"{ph['local_fps']:.1f} fps), latency p50 {_percentile(ph['latency'], 50):.0f} ms p95 "
                f"{_percentile(ph['latency'], 95):.0f} ms (arrival p50 {_percentile(ph['arrival'] or [0], 50):.0f} "
                f"p95 {_percentile(ph['arrival'] or [0], 95):.0f} ms)",
                file=sys.stderr,
            )
    for who, q in zip(("sender", "receiver"), call["quality"], strict=True):
        steps = " ".join(f"{h['level']}({h['why']})" for h in q["history"]) or "none"
        print(f"# {label} {who} quality level at the end {q['level']} ({q['key']}); changes: {steps}", file=sys.stderr)
    for who, cpu in zip(("sender", "receiver"), call["cpu"], strict=True):
        parts = ", ".join(f"{k} {pct_of_machine(v, cpu['seconds']):.0f} %" for k, v in sorted(cpu.items()) if k != "seconds")
        print(f"# {label} {who} Chromium CPU by process kind (share of the machine): {parts}", file=sys.stderr)


BODY_FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "browser" / "fixtures" / "body_wave.mjpeg"


def _set_body_tracking(server, actor: dict, on: bool) -> None:
    server.manage_python(
        "import json\nfrom characters.models import Actor\n"
        f"a = Actor.objects.get(pk={actor['actor']})\n"
        f"a.settings = {{**(a.settings or {{}}), 'bodyTracking': {on!r}, 'handTracking': {on!r}}}\n"
        "a.save()\nprint(json.dumps({'ok': True}))\n"
    )


def _body_call(p, server, actor: dict, seconds: float, *, body: bool) -> dict:
    """One call with the body fixture as the sender's camera; face, pose and hand rates over `seconds`."""
    _set_body_tracking(server, actor, body)
    browsers = [harness.launch_chromium(p, fake_video=BODY_FIXTURE), harness.launch_chromium(p)]
    try:
        contexts = [b.new_context(viewport={"width": 1280, "height": 860}) for b in browsers]
        contexts[0].add_init_script(f"localStorage.setItem('af.call.avatar', 'actor:{actor['actor']}');")
        contexts[1].add_init_script("localStorage.setItem('af.call.camera', 'off');")
        sender = harness.login(contexts[0], server.base_url, "bench-sender@example.com")
        receiver = harness.login(contexts[1], server.base_url, "bench-receiver@example.com")
        code = harness.create_room(sender, server.base_url, title="bench body")
        harness.enter_call(sender, server.base_url, code)
        harness.enter_call(receiver, server.base_url, code)
        for page in (sender, receiver):
            _wait(page, "() => window.__afStats.state === 'connected'")
        _wait(sender, "() => window.__afStats.trackingResults > 30", 120_000)
        if body:
            # At least one pose result (the model loaded); adaptive quality may lower or stop them later.
            _wait(sender, "() => window.__afStats.bodyResults > 0", 120_000)
        time.sleep(2.0)
        s0 = harness.stats(sender)
        t0 = time.monotonic()
        time.sleep(seconds)
        s1, r1 = harness.stats(sender), harness.stats(receiver)
        dt = time.monotonic() - t0
        results = max(1, s1["trackingResults"] - s0["trackingResults"])
        return {
            "face_fps": (s1["trackingResults"] - s0["trackingResults"]) / dt,
            "face_proc_ms": (s1["trackingProcMs"] - s0["trackingProcMs"]) / results,  # detect time per result
            "tracker_input": s1["trackerInput"],
            "body_fps": (s1["bodyResults"] - s0["bodyResults"]) / dt,
            "hand_fps": (s1["handResults"] - s0["handResults"]) / dt,
            "frame_bytes_max": r1["frameBytesMax"],
            "body_frames": r1["bodyFramesReceived"],
            "quality": s1["quality"],
        }
    finally:
        for b in browsers:
            b.close()


def _report_body(without: dict, with_body: dict) -> None:
    q = with_body["quality"]
    for name, call in (("without", without), ("with", with_body)):
        steps = " ".join(f"{h['level']}/{h.get('bodyFps')}({h['why']})" for h in call["quality"]["history"]) or "none"
        print(f"# body call {name} body/hands: face input {call['tracker_input']}, {call['face_proc_ms']:.0f} ms detect "
              f"per result, quality {call['quality']['key']}; changes (level/body fps): {steps}", file=sys.stderr)
    print(
        f"# body call: face {without['face_fps']:.1f} fps without body/hands, {with_body['face_fps']:.1f} fps with; "
        f"{with_body['body_frames']} body frames received; sender quality level {q['level']} ({q['key']}), "
        f"body trackers at {q.get('bodyFps')} fps asked",
        file=sys.stderr,
    )
    print(f"FIGURE body_tracking_fps {with_body['body_fps']:.1f} fps")
    print(f"FIGURE hand_tracking_fps {with_body['hand_fps']:.1f} fps")
    print(f"FIGURE frame_bytes_v2 {with_body['frame_bytes_max']} bytes")
    print(f"FIGURE face_fps_kept_pct {100 * with_body['face_fps'] / max(1e-9, without['face_fps']):.1f} %")


def main(argv: list[str] | None = None) -> int:
    """The benchmark on REDIS_URL's Redis (call seats live there), or on a private one when unset."""
    if os.environ.get("REDIS_URL"):
        return _main(argv)
    workdir = Path(tempfile.mkdtemp(prefix="af-bench-redis-"))
    port = free_port()
    redis = start_redis(port, workdir)
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    try:
        return _main(argv)
    finally:
        del os.environ["REDIS_URL"]
        redis.terminate()
        redis.wait(10)


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="measuring time of each call (two halves)")
    parser.add_argument("--bare-seconds", type=float, default=8.0, help="measuring time of each bare engine")
    parser.add_argument("--body-only", action="store_true", help="only the two body/hands calls")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    if args.body_only:
        server = harness.LiveServer(Path(tempfile.mkdtemp(prefix="af-bench-body-"))).start()
        try:
            server.create_users(["bench-sender@example.com", "bench-receiver@example.com"])
            actor = server.create_vrm_actor("bench-sender@example.com")
            with sync_playwright() as p:
                without = _body_call(p, server, actor, args.seconds, body=False)
                with_body = _body_call(p, server, actor, args.seconds, body=True)
        finally:
            server.stop()
        _report_body(without, with_body)
        return 0

    server = harness.LiveServer(Path(tempfile.mkdtemp(prefix="af-bench-call-"))).start()
    hog = None
    try:
        server.create_users(["bench-sender@example.com", "bench-receiver@example.com"])
        actor = server.create_vrm_actor("bench-sender@example.com")
        with sync_playwright() as p, bare_pages.BarePages() as pages:
            call = _call(p, server, actor, args.seconds)
            start = call["start_level"]
            bare_tracking = bare_pages.measure_tracking(
                p, pages, width=start["inputWidth"], height=start["inputHeight"], fps=start["trackFps"], seconds=args.bare_seconds,
            )  # fmt: skip
            w, h = call["vrm_canvas"]
            bare_vrm = bare_pages.measure_vrm(p, pages, width=w, height=h, fps=REMOTE_VRM_MAX_FPS, seconds=args.bare_seconds)
            # The same call while a busy loop takes one core for the whole run.
            hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            loaded = _call(p, server, actor, args.seconds)
            hog.kill()
            hog.wait()
            hog = None
            without_body = _body_call(p, server, actor, args.seconds, body=False)
            with_body = _body_call(p, server, actor, args.seconds, body=True)
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
        server.stop()

    quiet, under_load = _summary(call), _summary(loaded)
    if quiet is None or under_load is None:
        print("no frames were received", file=sys.stderr)
        return 1
    _report_phases("call", call)
    _report_phases("loaded call", loaded)
    print(
        f"# bare tracking: input {bare_tracking['input']} ({bare_tracking['mode']}), detect {bare_tracking['detect_ms']:.0f} ms, "
        f"faces {bare_tracking['faces_pct']:.0f} %; bare VRM: canvas {bare_vrm['size']}, draw {bare_vrm['draw_ms']:.1f} ms "
        f"(software GL: {bare_vrm['software_gl']})",
        file=sys.stderr,
    )
    two_d, vrm = call["two_d"], call["vrm"]
    print(f"FIGURE tracking_fps {quiet['tracking_fps']:.1f} fps")
    print(f"FIGURE face_frames_pct {quiet['face_frames_pct']:.1f} %")
    print(f"FIGURE render_fps_2d {two_d['render_fps']:.1f} fps")
    print(f"FIGURE render_fps_vrm {vrm['render_fps']:.1f} fps")
    print(f"FIGURE capture_to_render_ms_p50 {quiet['p50']:.1f} ms")
    print(f"FIGURE capture_to_render_ms_p95 {quiet['p95']:.1f} ms")
    print(f"FIGURE frame_bytes {vrm['frame_bytes']} bytes")
    pcts = [pct_of_machine(c.get("renderer", 0.0), c["seconds"]) for c in call["cpu"]]
    print(f"FIGURE cpu_pct_sender {pcts[0]:.1f} %")
    print(f"FIGURE cpu_pct_receiver {pcts[1]:.1f} %")
    print(f"FIGURE cpu_pct {statistics.mean(pcts):.1f} %")
    print(f"FIGURE tracking_fps_bare {bare_tracking['fps']:.1f} fps")
    print(f"FIGURE render_fps_vrm_bare {bare_vrm['fps']:.1f} fps")
    print(f"FIGURE tracking_efficiency_pct {100 * quiet['tracking_fps'] / max(1e-9, bare_tracking['fps']):.1f} %")
    print(f"FIGURE render_efficiency_pct {100 * vrm['render_fps'] / max(1e-9, bare_vrm['fps']):.1f} %")
    print(f"FIGURE tracking_fps_loaded {under_load['tracking_fps']:.1f} fps")
    print(f"FIGURE capture_to_render_ms_p95_loaded {under_load['p95']:.1f} ms")
    _report_body(without_body, with_body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
