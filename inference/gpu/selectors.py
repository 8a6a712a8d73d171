"""Reads of GPU host state (the workers' heartbeat snapshots in Redis) for the API, admin and health."""
from __future__ import annotations

import time
from typing import Any

from django.conf import settings

from .client import heartbeat_fresh
from .conf import SERVICE_NAMES
from .state import store


def gpu_hosts() -> list[dict[str, Any]]:
    """Every GPU host that published a snapshot, with `alive` (heartbeat recent) and VRAM flattened."""
    if not settings.REDIS_URL:
        return []  # embedded install without Redis: no GPU worker can report
    now = time.time()
    rows = []
    for snap in store().hosts():
        age = max(0.0, now - float(snap.get("at") or 0))
        vram = snap.get("vram") or {}
        rows.append({
            **snap,
            "alive": heartbeat_fresh(snap, now),
            "heartbeat_age_s": round(age, 1),
            "used_mb": vram.get("used_mb"),
            "total_mb": vram.get("total_mb"),
            "usage_percent": vram.get("usage_percent"),
        })
    return rows


def recent_switches(host: str, count: int = 20) -> list[dict[str, Any]]:
    return store().recent_switches(host, count)


def health_section() -> dict[str, dict[str, str]]:
    """Per GPU host: llm, tts, stt, gen3d, style as healthy / unhealthy / sleeping / unknown.
    A host whose worker stopped sending heartbeats cannot be checked: everything unknown."""
    section = {}
    for row in gpu_hosts():
        services = row.get("services") or {}
        section[row["host"]] = {name: (services.get(name, "unknown") if row["alive"] else "unknown") for name in SERVICE_NAMES}
    return section
