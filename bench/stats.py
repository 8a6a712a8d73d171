"""Helpers shared by the benchmark modules: progress logging and interpolated percentiles."""
from __future__ import annotations

import sys


def log(*args: object) -> None:
    """Progress to stderr, so stdout carries only the FIGURE lines."""
    print(*args, file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile, q in 0..1 (NaN for no values)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)
