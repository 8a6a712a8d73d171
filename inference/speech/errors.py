"""Speech errors in the project's one error family."""
from __future__ import annotations

from avatarforge.errors import AppError, ServiceUnavailable


class EngineUnavailable(ServiceUnavailable):
    code = "speech_engine_unavailable"
    default_message = "The speech engine is not available right now. Try again shortly."


class EngineFailed(AppError):
    """The engine answered but refused the request (a bad reference clip, text it cannot say)."""

    status = 502
    code = "speech_engine_failed"
    default_message = "The speech engine could not synthesize this text."
