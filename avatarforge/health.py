"""GET /api/health: each component with status and latency.

200 when the core (database, channel layer, storage) is healthy, 503 otherwise. Apps add their
own components with `register_check` in AppConfig.ready (chat registers the LLM endpoint).
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils.module_loading import import_string
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[], str | None]  # raises on failure; may return a short detail
    core: bool


_checks: dict[str, Check] = {}


def register_check(name: str, run: Callable[[], str | None], *, core: bool = False) -> None:
    _checks[name] = Check(name=name, run=run, core=core)


def check_database() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def check_channel_layer() -> str | None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")

    async def roundtrip() -> None:
        # The default prefix: a channel under another prefix is a separate Redis list that a
        # socket's receive (holding channels-redis's per-process receive lock) never reads.
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "health.ping"})
        await asyncio.wait_for(layer.receive(channel), timeout=2)

    async_to_sync(roundtrip)()
    return type(layer).__name__


def check_storage() -> str | None:
    name = default_storage.save(f"health/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    try:
        with default_storage.open(name) as handle:
            if handle.read() != b"ok":
                raise RuntimeError("read back different bytes")
    finally:
        default_storage.delete(name)
    return type(default_storage._wrapped if hasattr(default_storage, "_wrapped") else default_storage).__name__


def check_worker() -> str | None:
    """The broker must answer; a worker must reply to ping (not core: pages still work without)."""
    from avatarforge.celery import app

    if not settings.REDIS_URL:
        raise RuntimeError("no broker configured (REDIS_URL unset)")
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    replies = app.control.inspect(timeout=0.5).ping() or {}
    if not replies:
        raise RuntimeError("broker reachable, but no worker answered")
    return f"{len(replies)} worker(s)"


def _named_check(path: str) -> Callable[[], str | None]:
    """A check a feature app provides, named in settings.HEALTH_CHECKS (imported when it runs,
    so this platform module depends on no feature app)."""

    def run() -> str | None:
        return import_string(path)()

    return run


register_check("database", check_database, core=True)
register_check("channel_layer", check_channel_layer, core=True)
register_check("storage", check_storage, core=True)
register_check("worker", check_worker, core=False)
for _name, _path in settings.HEALTH_CHECKS.items():
    register_check(_name, _named_check(_path), core=False)


def run_checks() -> tuple[bool, dict[str, dict[str, object]]]:
    results: dict[str, dict[str, object]] = {}
    healthy = True
    for check in _checks.values():
        started = time.perf_counter()
        try:
            detail = check.run()
            status = "ok"
        except Exception as exc:  # a health check reports every failure, whatever it is
            # The endpoint is public: exception texts carry host names, ports, user names and
            # file paths (a database error names the server and the role). Callers get the
            # exception's type; the full text goes to the log.
            logger.warning("health check %s failed: %s: %s", check.name, type(exc).__name__, exc)
            detail = type(exc).__name__
            status = "error"
            healthy = healthy and not check.core
        results[check.name] = {
            "status": status,
            "core": check.core,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            "detail": detail,
        }
    return healthy, results


@extend_schema(summary="Component health", responses={200: dict, 503: dict})
@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
@throttle_classes([])
def health_view(request: HttpRequest) -> JsonResponse:
    healthy, components = run_checks()
    from . import __version__

    body = {"status": "ok" if healthy else "degraded", "version": __version__, "components": components}
    # Sections other apps report (settings.HEALTH_SECTIONS: name -> dotted path of a function that
    # returns JSON), e.g. "gpu": per GPU host, each model service healthy/unhealthy/sleeping/unknown.
    for name, path in getattr(settings, "HEALTH_SECTIONS", {}).items():
        try:
            body[name] = import_string(path)()
        except Exception as exc:  # reported, never fatal: same rule as the checks above
            logger.warning("health section %s failed: %s: %s", name, type(exc).__name__, exc)
            body[name] = "unknown"
    return JsonResponse(body, status=200 if healthy else 503)
