"""Failed log-in attempts, counted per email address and per client address.

Django's LoginView tries every password it is sent. After LOGIN_FAILURES_PER_EMAIL failures for
one address, or LOGIN_FAILURES_PER_CLIENT from one client, within LOGIN_WINDOW_S, further
attempts are refused without checking the password until the window has passed. The client
address is the one the API throttles use (REST_FRAMEWORK["NUM_PROXIES"]), so a made-up
X-Forwarded-For does not reset it. The counters live in the shared cache (several processes).
"""
from __future__ import annotations

import hashlib
import time

from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle

LOGIN_FAILURES_PER_EMAIL = 10
LOGIN_FAILURES_PER_CLIENT = 30
LOGIN_WINDOW_S = 15 * 60


def _client(request: HttpRequest) -> str:
    return BaseThrottle().get_ident(request)


def _keys(request: HttpRequest, email: str) -> list[tuple[str, int]]:
    bucket = int(time.time() // LOGIN_WINDOW_S)
    digest = hashlib.sha256((email or "").strip().lower().encode()).hexdigest()[:32]
    return [
        (f"login-fail:email:{digest}:{bucket}", LOGIN_FAILURES_PER_EMAIL),
        (f"login-fail:client:{_client(request)}:{bucket}", LOGIN_FAILURES_PER_CLIENT),
    ]


def blocked(request: HttpRequest, email: str) -> bool:
    """Whether this attempt is refused before its password is checked."""
    return any((cache.get(key) or 0) >= limit for key, limit in _keys(request, email))


def record_failure(request: HttpRequest, email: str) -> None:
    for key, _limit in _keys(request, email):
        cache.add(key, 0, timeout=LOGIN_WINDOW_S + 60)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=LOGIN_WINDOW_S + 60)
