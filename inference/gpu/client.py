"""Asking a GPU host for a mode, from any process (Daphne, voice worker, CPU Celery worker).

    with use_mode("tts"):          # waits its turn (FIFO), then holds the mode
        synthesize(...)            # no switch can take the GPU away until the block ends

A request the mode is already in, with nobody queued and no switch running, is granted at once
(one Redis script). Otherwise it goes to the host's queue (`gpu.<host>`, consumed only by that
host's worker, one task at a time: first come, first served) and the caller blocks on the reply.
Past the timeout the caller gets 503 service_unavailable and the worker skips the request.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from .conf import ALL_MODE, host_queue, request_timeout
from .errors import GpuUnavailable, error_from_reply
from .state import store

STALE_AFTER_BEATS = 3  # a host whose heartbeat is older than this many intervals is down...
STALE_MIN_S = 5.0  # ...and than this: a busy machine can delay one heartbeat by a second or two
TASK_NAME = "inference.gpu.ensure_mode"


@dataclass
class ModeGrant:
    host: str
    mode: str
    ticket: str
    previous_mode: str | None
    current_mode: str | None
    switch_time_ms: float
    leased: bool

    def release(self) -> None:
        if self.leased:
            store().release_lease(self.host, self.mode, self.ticket)
            self.leased = False


def live_hosts() -> list[dict[str, Any]]:
    """Snapshots of GPU hosts whose worker sent a heartbeat recently (none without Redis)."""
    if not settings.REDIS_URL:
        return []  # embedded install: no GPU worker can exist
    return [h for h in store().hosts() if heartbeat_fresh(h)]


def heartbeat_fresh(snapshot: dict[str, Any], now: float | None = None) -> bool:
    age = (now or time.time()) - float(snapshot.get("at") or 0)
    return age <= max(STALE_MIN_S, STALE_AFTER_BEATS * float(snapshot.get("heartbeat_interval") or 2))


def _serves(snapshot: dict[str, Any], mode: str) -> bool:
    return mode in (snapshot.get("modes") or {})


def pick_host(mode: str, host: str | None = None) -> dict[str, Any]:
    hosts = [h for h in live_hosts() if _serves(h, mode) and (host is None or h["host"] == host)]
    if not hosts:
        raise GpuUnavailable(_("No GPU host that serves this is running now."), details={"mode": mode, "host": host})
    # Prefer a host already in the mode, then the shortest queue.
    return min(hosts, key=lambda h: (h.get("mode") != mode, int(h.get("pending") or 0), h["host"]))


def request_mode(mode: str, *, host: str | None = None, lease: bool = True, timeout: float | None = None) -> ModeGrant:
    """Wait (fairly) until a GPU host is in `mode`. With `lease`, the mode is held until release()."""
    snapshot = pick_host(mode, host)
    name = snapshot["host"]
    ticket = uuid.uuid4().hex
    gpu_store = store()
    if not snapshot.get("switching_enabled", True):
        return ModeGrant(name, mode, ticket, ALL_MODE, ALL_MODE, 0.0, leased=False)
    lease_ttl = float(snapshot.get("lease_ttl") or 300)
    if lease and gpu_store.try_grant(name, mode, ticket, lease_ttl):
        return ModeGrant(name, mode, ticket, mode, mode, 0.0, leased=True)
    wait = request_timeout() if timeout is None else timeout
    deadline_ms = int((time.time() + wait) * 1000)
    gpu_store.add_pending(name, ticket, deadline_ms)
    from avatarforge.celery import app

    app.send_task(TASK_NAME, args=[name, mode, ticket, lease, deadline_ms], queue=host_queue(name), expires=wait)
    reply = gpu_store.wait_reply(name, ticket, wait)
    if reply is None:
        gpu_store.cancel(name, ticket)
        gpu_store.remove_pending(name, ticket)
        raise GpuUnavailable(_("The GPU stayed busy for too long. Try again shortly."),
                             details={"host": name, "mode": mode, "waited_s": round(wait, 1)})
    if not reply.get("ok"):
        raise error_from_reply(reply)
    return ModeGrant(name, mode, ticket, reply.get("previous_mode"), reply.get("current_mode"),
                     float(reply.get("switch_time_ms") or 0.0), leased=lease)


@contextmanager
def use_mode(mode: str, *, host: str | None = None, timeout: float | None = None) -> Iterator[ModeGrant]:
    grant = request_mode(mode, host=host, lease=True, timeout=timeout)
    try:
        yield grant
    finally:
        grant.release()


def generation_queue(configured: str) -> str:
    """Where a generation job goes: the GPU queue while a GPU host serves gen3d, else the CPU
    pipeline's queue (the fallback when no GPU host is up)."""
    if configured != "gpu":
        return configured
    try:
        up = any(_serves(h, "gen3d") for h in live_hosts())
    except Exception:  # Redis down: the CPU pipeline still runs the job
        up = False
    return "gpu" if up else "default"
