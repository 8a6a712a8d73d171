"""One error family for the REST API and WebSocket frames: {"code", "message", "details"}.

Services, stages and consumers raise AppError (or a subclass). This module imports neither DRF nor
Django's HTTP layer, so a worker, a pipeline stage or a signaling parser can raise the family
without pulling in the web stack; avatarforge.error_handlers turns any exception into the body.
"""
from __future__ import annotations

from typing import Any

from .korean import resolve_particles


class AppError(Exception):
    """A failure a person can act on. Subclasses set status and code defaults."""

    status: int = 400
    code: str = "bad_request"
    default_message: str = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: Any = None,
        status: int | None = None,
    ) -> None:
        # Korean particles after interpolated names ("%(name)s을(를)") resolved once the text is final.
        self.message = resolve_particles(str(message or self.default_message))
        self.code = code or self.code
        self.details = details
        if status is not None:
            self.status = status
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details)


class NotFound(AppError):
    status = 404
    code = "not_found"
    default_message = "Not found."


class Forbidden(AppError):
    status = 403
    code = "permission_denied"
    default_message = "You do not have permission to do this."


class Conflict(AppError):
    status = 409
    code = "conflict"
    default_message = "This conflicts with the current state."


class LimitExceeded(AppError):
    """A plan limit is used up. 403: retrying will not help until the user frees a slot or upgrades."""

    status = 403
    code = "plan_limit_exceeded"
    default_message = "Your plan's limit is reached."


class TooManyRequests(AppError):
    status = 429
    code = "rate_limited"
    default_message = "Too many requests. Try again shortly."

    def __init__(self, message: str | None = None, *, retry_after: int | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"
    default_message = "The request body is too large."


class ServiceUnavailable(AppError):
    status = 503
    code = "service_unavailable"
    default_message = "A service this needs is unavailable. Try again shortly."


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"code": code, "message": resolve_particles(str(message)), "details": details}
