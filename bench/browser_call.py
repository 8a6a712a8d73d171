"""Benchmark of an avatar call in real headless Chromium: two people, fake camera, 20 s.

    python -m bench.browser_call [--seconds 20]

Two Chromium processes (two people, each with their own GPU process) join one room on a real
Daphne (tests/browser/harness.py). The sender tracks the fake camera (../shared/fixtures/camera/
face.mjpeg, a smiling face rolling about +-12 degrees) and sends parameter frames; the receiver
has its camera off so the machine's two cores go to one tracker and one remote renderer. First
half: the sender shows a built-in 2D avatar; second half: it switches to a VRM actor (the Godette
fixture, sent peer to peer) and the receiver renders it at up to 640x480 under software GL.

Render fps counts real draws of the remote canvas (the VRM at 640x480); draws that would repeat
the same picture are skipped by the page and not counted.

Prints (numbers read from the pages' window.__afStats):
    FIGURE tracking_fps <n> fps                  sender's face tracker results per second (goal >= 30)
    FIGURE face_frames_pct <n> %                 received frames that carry a face (goal >= 95)
    FIGURE render_fps_2d <n> fps                 receiver's 2D remote avatar (goal >= 55)
    FIGURE render_fps_vrm <n> fps                receiver's VRM remote avatar (goal >= 20); drawn once per
                                                 new frame, so at most the sender's tracking rate
    FIGURE capture_to_render_ms_p50 <n> ms       sender camera frame (its capture time) -> first remote
    FIGURE capture_to_render_ms_p95 <n> ms       draw showing it (goal p95 < 60; clocks synced over "control")
    FIGURE frame_bytes <n> bytes                 one parameter frame on the DataChannel (<= 80)
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.browser import harness


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
        "frame_bytes": r1["frameBytes"],
        "remote_kind": r1["remoteKind"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="total measuring time (two halves)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    server = harness.LiveServer(Path(tempfile.mkdtemp(prefix="af-bench-call-"))).start()
    try:
        sender_email, receiver_email = "bench-sender@example.com", "bench-receiver@example.com"
        server.create_users([sender_email, receiver_email])
        actor = server.create_vrm_actor(sender_email)
        with sync_playwright() as p:
            browsers = [harness.launch_chromium(p), harness.launch_chromium(p)]
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
                half = args.seconds / 2
                two_d = _phase(sender, receiver, half)
                sender.select_option("#call-avatar", f"actor:{actor['actor']}")
                _wait(receiver, "() => window.__afStats.remoteKind === 'vrm'")
                time.sleep(1.0)  # first draws compile shaders
                vrm = _phase(sender, receiver, half)
            finally:
                for b in browsers:
                    b.close()
    finally:
        server.stop()

    frames = two_d["frames"] + vrm["frames"]
    faces = two_d["face_frames"] + vrm["face_frames"]
    latency = two_d["latency"] + vrm["latency"]
    if not latency or not frames:
        print("no frames were received", file=sys.stderr)
        return 1
    for name, ph in (("2d", two_d), ("vrm", vrm)):
        if ph["latency"]:
            print(
                f"# {name} half: tracking {ph['tracking_fps']:.1f} fps (detect {ph['detect_ms']:.0f} ms, frame wait "
                f"{ph['frame_wait_ms']:.0f} ms), render {ph['render_fps']:.1f} fps (sender's own preview "
                f"{ph['local_fps']:.1f} fps), latency p50 {_percentile(ph['latency'], 50):.0f} ms p95 "
                f"{_percentile(ph['latency'], 95):.0f} ms",
                file=sys.stderr,
            )
    print(f"FIGURE tracking_fps {statistics.mean([two_d['tracking_fps'], vrm['tracking_fps']]):.1f} fps")
    print(f"FIGURE face_frames_pct {100 * faces / frames:.1f} %")
    print(f"FIGURE render_fps_2d {two_d['render_fps']:.1f} fps")
    print(f"FIGURE render_fps_vrm {vrm['render_fps']:.1f} fps")
    print(f"FIGURE capture_to_render_ms_p50 {_percentile(latency, 50):.1f} ms")
    print(f"FIGURE capture_to_render_ms_p95 {_percentile(latency, 95):.1f} ms")
    print(f"FIGURE frame_bytes {vrm['frame_bytes']} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
