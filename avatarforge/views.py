"""Home page and error handlers: HTML for pages, the JSON error format under /api/."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from .errors import json_error
from .middleware import is_api


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def _error(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    if is_api(request):
        return json_error(status, code, message)
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, "bad_request", _("The request could not be processed."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, "permission_denied", _("You do not have permission to do this."))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, "not_found", _("Not found."))


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, "server_error", _("Something went wrong on our side. Please try again."))
