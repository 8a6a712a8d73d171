"""Errors of GPU modes, in the project's one error family (seed 004 section 5.11's table)."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from avatarforge.errors import AppError, ServiceUnavailable


class VramInsufficient(AppError):
    """Seed 004's VRAM_INSUFFICIENT: the GPU has not enough free memory for the mode asked."""

    status = 507
    code = "vram_insufficient"
    default_message = _("The GPU does not have enough free memory for this. Try again later.")


class GpuUnavailable(ServiceUnavailable):
    """Seed 004's SERVICE_UNAVAILABLE (503, code service_unavailable): no GPU host can serve now."""


ERRORS: dict[str, type[AppError]] = {"vram_insufficient": VramInsufficient, "service_unavailable": GpuUnavailable}


def error_from_reply(reply: dict) -> AppError:
    """Rebuild the worker's error (sent through Redis as code/message/details) in this process."""
    cls = ERRORS.get(str(reply.get("code")), GpuUnavailable)
    return cls(str(reply.get("message") or ""), details=reply.get("details"))
