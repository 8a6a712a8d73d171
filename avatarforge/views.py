"""Home page and error handlers: HTML for pages, the JSON error format under /api/."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext as _

from .error_handlers import json_error
from .errors import AppError, Forbidden, NotFound
from .middleware import is_api


def home(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {}
    if request.user.is_authenticated:
        from accounts.services import usage_for

        # A new user's first steps: calls need an actor, an actor needs an avatar.
        used = {u["limit"]: u["used"] for u in usage_for(user=request.user)}
        steps = {"has_avatar": bool(used.get("avatar_slots")), "has_actor": bool(used.get("actor_slots"))}
        if not all(steps.values()):
            context["first_steps"] = steps
    return render(request, "home.html", context)


def _error(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    if is_api(request):
        return json_error(status, code, message)
    return render(request, "error.html", {"status": status, "code": code, "message": message}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, MultiPartParserError):
        # A form body Django cannot read (e.g. multipart without a boundary), raised wherever
        # request.POST is first touched: the CSRF check, a form view, DRF's session auth.
        return _error(request, 400, "invalid_form_data", _("The form data could not be read: %(reason)s") % {"reason": exception})
    return _error(request, 400, "bad_request", _("The request could not be processed."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, "permission_denied", _("You do not have permission to do this."))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, "not_found", _("Not found."))


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, "server_error", _("Something went wrong on our side. Please try again."))


def app_errors_as_pages(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Page views: NotFound/Forbidden from selectors and services become the site's 404/403 pages
    (the API answers the same errors as JSON)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from None

    return wrapper


# Forbidden codes that mean "this object is not yours" (as opposed to a rule the owner can act
# on, like license_forbids_sharing, which stays a message on the page).
OWNERSHIP_CODES = frozenset({"not_owner", "not_room_owner", "permission_denied"})


def flash_app_error(request: HttpRequest, exc: AppError) -> None:
    """A page POST's refusal. Ownership first, as in the API: another user's (or no) object is
    the 404/403 page, never a redirect that would tell the prober the action merely failed;
    anything the user can fix becomes a message on the page they are sent back to."""
    if isinstance(exc, NotFound):
        raise Http404(exc.message) from None
    if isinstance(exc, Forbidden) and exc.code in OWNERSHIP_CODES:
        raise PermissionDenied(exc.message) from None
    messages.error(request, exc.message)
