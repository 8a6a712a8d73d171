"""Model-call failures as the project's one error family (LLMError is an AppError), with codes a
person can act on: llm_unreachable, llm_timeout, llm_rate_limited, llm_context_too_long,
llm_auth_failed, llm_model_not_found, llm_upstream_error, llm_bad_request, llm_bad_response.
`transient` ones may succeed on retry (see retry.py)."""
from __future__ import annotations

import json
import logging
import re
from typing import Any

import httpx2
import openai
from django.utils.translation import gettext as _

from avatarforge.errors import AppError

from .config import ModelConfig

# One logger name for the whole LLM gateway, so operators filter one name.
logger = logging.getLogger("inference.llm")


class LLMError(AppError):
    """A model call failed. `transient` failures may succeed on retry."""

    status = 502
    code = "llm_error"
    default_message = "The language model could not answer."
    transient = False

    def __init__(self, message: str | None = None, *, retry_after: float | None = None, transient: bool | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        if transient is not None:
            self.transient = transient


def llm_error(code: str, message: str, *, status: int, transient: bool, details: Any = None, retry_after: float | None = None) -> LLMError:
    return LLMError(message, code=code, status=status, transient=transient, details=details, retry_after=retry_after)


def bad_response(message: str, details: Any = None) -> LLMError:
    return llm_error("llm_bad_response", message, status=502, transient=False, details=details)


_CONTEXT_PATTERNS = re.compile(
    r"context[ _-]?length|maximum context|context window|too many tokens|prompt is too long|"
    r"exceeds? the (?:model'?s? )?(?:maximum|max)|input is too long|n_ctx|context_length_exceeded",
    re.IGNORECASE,
)


def _retry_after_of(exc: openai.APIStatusError) -> float | None:
    try:
        value = exc.response.headers.get("retry-after")
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def _unreachable(details: dict[str, Any]) -> LLMError:
    return llm_error(
        "llm_unreachable", _("The language model server cannot be reached. Check that it is running, or try another model."),
        status=503, transient=True, details=details,
    )


def _from_status(exc: openai.APIStatusError, details: dict[str, Any], cfg: ModelConfig) -> LLMError:
    upstream = str(getattr(exc, "message", "") or "")[:300]
    # The upstream's own words stay in the log: they can quote (part of) the API key, the
    # account or organization, the endpoint's internals. Users get our code and message.
    logger.warning("LLM %s answered %s: %s", cfg.name, exc.status_code, upstream)
    details = {**details, "upstream_status": exc.status_code}
    if isinstance(exc, openai.RateLimitError):
        return llm_error(
            "llm_rate_limited", _("The language model is busy. Try again shortly."),
            status=429, transient=True, details=details, retry_after=_retry_after_of(exc),
        )
    code = str(getattr(exc, "code", "") or "")
    if exc.status_code in (400, 413, 422) and (code == "context_length_exceeded" or _CONTEXT_PATTERNS.search(upstream)):
        return llm_error(
            "llm_context_too_long", _("The conversation is too long for this model. Try again or start a new conversation."),
            status=400, transient=False, details=details,
        )
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return llm_error("llm_auth_failed", _("The language model refused our credentials. An administrator must check the API key."), status=502, transient=False, details=details)
    if isinstance(exc, openai.NotFoundError):
        return llm_error("llm_model_not_found", _("The language model server does not know this model. An administrator must check the configuration."), status=502, transient=False, details=details)
    if exc.status_code >= 500:
        return llm_error("llm_upstream_error", _("The language model server failed. Try again shortly."), status=502, transient=True, details=details)
    return llm_error("llm_bad_request", _("The language model rejected the request."), status=502, transient=False, details=details)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def translate_error(exc: BaseException, cfg: ModelConfig) -> LLMError:
    """Map an openai/httpx exception to an LLMError; anything else (a bug) is re-raised."""
    if isinstance(exc, LLMError):
        return exc
    details = {"model": cfg.name}
    if isinstance(exc, openai.APITimeoutError):
        # A model that was asked and did not answer within the timeout (a read timeout: a long
        # generation on a slow CPU) would take as long again, while a person waits and the
        # server's slot stays busy: not retried (4 x 60 s was a wizard's 242 s). Connect and
        # pool timeouts are retried.
        read = _caused_by(exc, httpx2.ReadTimeout)
        return llm_error("llm_timeout", _("The language model took too long to answer. Try again."), status=504,
                         transient=not read, details={**details, "phase": "read" if read else "connect"})
    if isinstance(exc, openai.APIConnectionError):
        return _unreachable(details)
    if isinstance(exc, openai.APIStatusError):
        return _from_status(exc, details, cfg)
    if isinstance(exc, (openai.APIResponseValidationError, json.JSONDecodeError, ValueError, KeyError, TypeError)):
        return bad_response(_("The language model sent an answer we could not read."), details)
    if isinstance(exc, (httpx2.TransportError, OSError)):
        return _unreachable(details)
    if isinstance(exc, openai.OpenAIError):
        return bad_response(_("The language model sent an answer we could not read."), details)
    raise exc
