"""Where body and hand tracking spend the CPU, beside the face tracker (issue 18).

    python -m bench.body_cost [--seconds 15]

One headless Chromium with the body fixture as its camera (tests/browser/fixtures/body_wave.mjpeg)
opens the actor editor's camera preview (the same face, pose and hands workers as a call, without
a peer), first face only, then with body and hand tracking ticked. CPU time is read per thread
(psutil, /proc) of the page's renderer process, and per process for the GPU process (the legacy
MediaPipe solutions draw each frame through WebGL on an OffscreenCanvas, SwiftShader here), so
each worker's cost per result is known even on a loaded machine: CPU time counts what a thread
ran, not how long it waited for a core. Prints "#" lines (not figures: the issue's figures come
from bench.browser_call):

    # face only: face N fps, face worker X ms/result, main Y ms/s, gpu Z ms/s
    # with body+hands: face N fps (P % kept by CPU), pose ..., hands ..., gpu ...
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil

from tests.browser import harness

from .chromium_cpu import chromium_roots

FIXTURE = harness.ROOT / "tests" / "browser" / "fixtures" / "body_wave.mjpeg"
TOGGLE = """(names) => { for (const name of names) { const box = document.querySelector(`#actor-form input[name=${name}]`);
  box.checked = !box.checked; box.dispatchEvent(new Event('change', {bubbles: true})); } }"""


def _threads(root: psutil.Process) -> dict[tuple[int, int], tuple[str, float]]:
    """(pid, tid) -> (kind/thread name, cpu seconds) for every thread of the browser's processes."""
    out = {}
    for proc in [root, *root.children(recursive=True)]:
        try:
            kind = next((a.split("=", 1)[1] for a in proc.cmdline() if a.startswith("--type=")), "browser")
            for t in proc.threads():
                try:
                    name = Path(f"/proc/{proc.pid}/task/{t.id}/comm").read_text().strip()
                except OSError:
                    continue
                out[(proc.pid, t.id)] = (f"{kind}:{name}", t.user_time + t.system_time)
        except psutil.Error:
            continue
    return out


def _measure(page, root: psutil.Process, seconds: float) -> dict:
    before = _threads(root)
    s0 = page.evaluate("() => ({face: window.__afActorPreview.results, pose: window.__afActorPreview.bodyResults, hands: window.__afActorPreview.handResults})")
    t0 = time.monotonic()
    time.sleep(seconds)
    after = _threads(root)
    s1 = page.evaluate("() => ({face: window.__afActorPreview.results, pose: window.__afActorPreview.bodyResults, hands: window.__afActorPreview.handResults})")
    wall = time.monotonic() - t0
    threads = {key: (name, cpu - before.get(key, (name, 0.0))[1]) for key, (name, cpu) in after.items()}
    return {"wall": wall, "threads": threads, "counts": {k: s1[k] - s0[k] for k in s1}}


def _report(label: str, m: dict, workers: dict[str, tuple[int, int]]) -> None:
    wall = m["wall"]
    c = m["counts"]
    by_name: dict[str, float] = {}
    for key, (name, cpu) in m["threads"].items():
        role = next((w for w, k in workers.items() if k == key), None)
        by_name[role or name] = by_name.get(role or name, 0.0) + cpu
    rates = {k: v / wall for k, v in c.items()}
    parts = [f"face {rates['face']:.1f} fps", f"pose {rates['pose']:.1f} fps", f"hands {rates['hands']:.1f} fps"]
    for role, count in (("face worker", c["face"]), ("pose worker", c["pose"]), ("hands worker", c["hands"])):
        if role in by_name and count:
            parts.append(f"{role} {1000 * by_name[role] / count:.0f} ms/result ({100 * by_name[role] / wall:.0f} % of a core)")
    top = sorted(((v, k) for k, v in by_name.items() if not k.endswith("worker")), reverse=True)[:6]
    parts += [f"{k} {100 * v / wall:.0f} %" for v, k in top]
    print(f"# {label}: " + ", ".join(parts), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    print(f"# load before: {os.getloadavg()}", file=sys.stderr)
    server = harness.LiveServer(Path(tempfile.mkdtemp(prefix="af-bench-bodycost-"))).start()
    try:
        email = f"cost-{uuid.uuid4().hex[:8]}@example.com"
        server.create_users([email])
        actor = server.create_vrm_actor(email)
        with sync_playwright() as p:
            before = chromium_roots()
            browser = harness.launch_chromium(p, fake_video=FIXTURE)
            root = psutil.Process((chromium_roots() - before).pop())
            try:
                page = harness.login(browser.new_context(viewport={"width": 1280, "height": 860}), server.base_url, email)
                page.goto(f"{server.base_url}/avatars/actors/{actor['actor']}/")
                page.wait_for_function("() => window.__afActorPreview.viewerReady", timeout=120_000)
                workers_before = {k for k, (n, _) in _threads(root).items() if "Worker" in n}
                page.click("#actor-live-toggle")
                page.wait_for_function("() => window.__afActorPreview.results > 20", timeout=120_000)
                face_worker = sorted({k for k, (n, _) in _threads(root).items() if "Worker" in n} - workers_before)
                workers = {"face worker": face_worker[0]} if face_worker else {}
                face_only = _measure(page, root, args.seconds)
                _report("face only", face_only, workers)

                known = {k for k, (n, _) in _threads(root).items() if "Worker" in n}
                page.evaluate(TOGGLE, ["bodyTracking", "handTracking"])
                page.wait_for_function("() => window.__afActorPreview.bodyResults > 5 && window.__afActorPreview.handResults > 5", timeout=180_000)
                new = sorted({k for k, (n, _) in _threads(root).items() if "Worker" in n} - known, key=lambda k: k[1])
                if len(new) >= 2:
                    workers.update({"pose worker": new[0], "hands worker": new[1]})
                time.sleep(2)
                with_body = _measure(page, root, args.seconds)
                _report("with body+hands", with_body, workers)
                face_ms = [1000 * m["threads"][workers["face worker"]][1] / max(1, m["counts"]["face"])
                           for m in (face_only, with_body) if "face worker" in workers]
                if len(face_ms) == 2:
                    print(f"# face worker CPU per result: {face_ms[0]:.0f} ms alone, {face_ms[1]:.0f} ms beside body+hands",
                          file=sys.stderr)
            finally:
                browser.close()
    finally:
        server.stop()
    print(f"# load after: {os.getloadavg()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
