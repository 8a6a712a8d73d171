"""Turns any exception into the one error body {"code", "message", "details"} with its HTTP
status: the DRF exception handler (settings.REST_FRAMEWORK), the API middleware and JSON views use it.
"""
from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf
from rest_framework.response import Response

from .errors import AppError, TooManyRequests, error_body

logger = logging.getLogger(__name__)


_DRF_CODES: dict[type, str] = {
    drf.NotAuthenticated: "not_authenticated",
    drf.AuthenticationFailed: "authentication_failed",
    drf.PermissionDenied: "permission_denied",
    drf.NotFound: "not_found",
    drf.MethodNotAllowed: "method_not_allowed",
    drf.NotAcceptable: "not_acceptable",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.Throttled: "rate_limited",
    drf.ParseError: "parse_error",
    drf.ValidationError: "invalid",
}


def _drf_message(exc: drf.APIException) -> str:
    if isinstance(exc, drf.ValidationError):
        return _("Some fields are invalid.")
    detail = exc.detail
    if isinstance(detail, (list, dict)):
        return _("The request could not be processed.")
    return str(detail)


def exception_to_response(exc: BaseException) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Map any exception to (status, body, headers). Unknown exceptions become a logged 500."""
    headers: dict[str, str] = {}
    if isinstance(exc, AppError):
        if isinstance(exc, TooManyRequests) and exc.retry_after:
            headers["Retry-After"] = str(exc.retry_after)
        return exc.status, exc.as_dict(), headers
    if isinstance(exc, drf.APIException):
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
        details = exc.detail if isinstance(exc, drf.ValidationError) else None
        if isinstance(exc, drf.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait) + 1)
            details = {"retry_after": int(exc.wait) + 1}
        if isinstance(exc, drf.MethodNotAllowed):
            details = None
        return exc.status_code, error_body(code, _drf_message(exc), details), headers
    if isinstance(exc, Http404):
        return 404, error_body("not_found", _("Not found.")), headers
    if isinstance(exc, DjangoPermissionDenied):
        return 403, error_body("permission_denied", _("You do not have permission to do this.")), headers
    if isinstance(exc, RequestDataTooBig):
        return 413, error_body("payload_too_large", _("The request body is too large.")), headers
    if isinstance(exc, DjangoValidationError):
        details = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return 400, error_body("invalid", _("Some fields are invalid."), details), headers
    if isinstance(exc, SuspiciousOperation):
        return 400, error_body("bad_request", _("The request could not be processed.")), headers
    logger.exception("Unhandled error", exc_info=exc)
    return 500, error_body("server_error", _("Something went wrong on our side. Please try again.")), headers


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    status, body, headers = exception_to_response(exc)
    return Response(body, status=status, headers=headers)


def json_error(status: int, code: str, message: str, details: Any = None) -> JsonResponse:
    return JsonResponse(error_body(code, message, details), status=status)
