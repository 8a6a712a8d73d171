"""API-wide middleware: the body size ceiling and the error format for non-DRF failures."""
from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from .error_handlers import exception_to_response
from .errors import error_body


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class ApiBodySizeMiddleware:
    """Refuse a body over MAX_REQUEST_BYTES from its Content-Length, before anything reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            body = error_body(
                "payload_too_large",
                _("The request body is too large (at most %(mb)d MB).") % {"mb": settings.MAX_REQUEST_BYTES // 2**20},
                {"max_bytes": settings.MAX_REQUEST_BYTES},
            )
            if is_api(request):
                return JsonResponse(body, status=413)
            return HttpResponse(body["message"], status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class ApiExceptionMiddleware:
    """Under /api/, exceptions raised outside DRF views still answer in the error format."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not is_api(request):
            return None
        status, body, headers = exception_to_response(exc)
        response = JsonResponse(body, status=status)
        for key, value in headers.items():
            response[key] = value
        return response
