"""CPU time of the Chromium processes behind one page, for bench/browser_call.py (psutil).

Each person in the benchmark has their own Chromium; its renderer processes (`--type=renderer`)
run the page: its scripts, the face tracker's worker, layout and 2D canvas. The GPU process
(WebGL under SwiftShader) and the browser process are counted separately. Only browsers started
by this process are looked at (other programs on the machine may run Chromium too).
"""
from __future__ import annotations

import os
import time

import psutil


def _is_chromium(proc: psutil.Process) -> bool:
    try:
        return "chrom" in proc.name().lower()
    except psutil.Error:
        return False


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.Error:
        return []


def chromium_roots() -> set[int]:
    """Browser processes (no --type=) among this process's descendants."""
    roots = set()
    for proc in psutil.Process(os.getpid()).children(recursive=True):
        if _is_chromium(proc) and not any(a.startswith("--type=") for a in _cmdline(proc)):
            roots.add(proc.pid)
    return roots


def launch_measured(launch):
    """Call `launch()` (which starts one Chromium) and return (browser, BrowserCpu of its processes)."""
    before = chromium_roots()
    browser = launch()
    new = chromium_roots() - before
    if len(new) != 1:
        raise RuntimeError(f"expected one new Chromium, found {sorted(new)}")
    return browser, BrowserCpu(new.pop())


class BrowserCpu:
    """CPU seconds used by one Chromium's processes, by kind (renderer, gpu-process, ..., browser)."""

    def __init__(self, root_pid: int) -> None:
        self.root = psutil.Process(root_pid)
        self._kinds: dict[int, str] = {}
        self._start: dict[int, float] = {}
        self._t0 = 0.0

    def _times(self) -> dict[int, float]:
        out: dict[int, float] = {}
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return out
        for proc in procs:
            try:
                t = proc.cpu_times()
                out[proc.pid] = t.user + t.system
            except psutil.Error:
                continue
            if proc.pid not in self._kinds:
                kind = next((a.split("=", 1)[1] for a in _cmdline(proc) if a.startswith("--type=")), "browser")
                self._kinds[proc.pid] = kind
        return out

    def start(self) -> None:
        self._start = self._times()
        self._t0 = time.monotonic()

    def stop(self) -> dict:
        """{"seconds": wall, "<kind>": cpu seconds} since start(); processes started since count whole."""
        now = self._times()
        wall = time.monotonic() - self._t0
        out: dict[str, float] = {"seconds": wall}
        for pid, cpu in now.items():
            kind = self._kinds.get(pid, "other")
            out[kind] = out.get(kind, 0.0) + cpu - self._start.get(pid, 0.0)
        return out


def pct_of_machine(cpu_seconds: float, wall_seconds: float) -> float:
    """CPU seconds over a wall time as a share of the whole machine (100 % = every core busy)."""
    return 100.0 * cpu_seconds / max(1e-9, wall_seconds) / (os.cpu_count() or 1)
