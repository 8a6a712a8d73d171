"""/api/health's `live` component (named in settings.HEALTH_CHECKS): how many live workers are
alive (their Redis heartbeat, live.worker) and how many sessions they hold. Running sessions with
no live worker at all is an error: nobody is answering those streams."""
from __future__ import annotations

import redis
from django.conf import settings

from .models import LiveSession, SessionStatus


class NoLiveWorker(RuntimeError):
    pass


def live_status() -> str:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=3) if settings.REDIS_URL else None
    workers = held = 0
    if client is not None:
        for key in client.scan_iter(match="live:worker:*", count=200):
            value = client.get(key)
            if value is not None:
                workers += 1
                held += int(value or 0)
    running = LiveSession.objects.filter(status=SessionStatus.RUNNING).count()
    if running and not workers:
        raise NoLiveWorker(f"{running} running live sessions and no live worker")
    return f"{workers} live workers, {held} sessions held, {running} running"
