"""The API's scoped rates, applied to page views too.

The REST API throttles expensive endpoints with DRF's ScopedRateThrottle (rates in
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]: "upload", "auth"). The pages that do the same work
(the avatar upload form, the photo form, card import, invites, API tokens) must not be a way
around those rates, so they take from the very same bucket: same scope, same cache key (the
user's id, else the client address), same history.
"""
from __future__ import annotations

from types import SimpleNamespace

from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework.throttling import ScopedRateThrottle

from .errors import TooManyRequests


def check_rate(request: HttpRequest, scope: str) -> None:
    """Count one request of `scope` for this user; raise TooManyRequests (429) when the rate is used up."""
    throttle = ScopedRateThrottle()
    if throttle.allow_request(request, SimpleNamespace(throttle_scope=scope)):
        return
    wait = throttle.wait()
    retry_after = int(wait) + 1 if wait is not None else None
    raise TooManyRequests(
        _("Too many requests. Try again in %(s)d seconds.") % {"s": retry_after or 60},
        code="rate_limited",
        retry_after=retry_after,
        details={"retry_after": retry_after},
    )
