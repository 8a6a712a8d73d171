"""The one interface every pipeline stage implements, CPU default or GPU replacement.

A stage reads what earlier stages stored (through the context), does its work, and returns a
StageOutput: small JSON data, named artifact files and an optional preview image. It never touches
the database or storage itself, so any backend (a local function, a GPU service client) fits.
Long stages call `ctx.checkpoint(fraction)` now and then: that is where cancellation, the stage's
time limit and progress reporting happen.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from django.utils.functional import Promise

from avatarforge.errors import AppError


class StageError(AppError):
    """A failure the user can act on (bad photo, validation failed...). Its message is shown as is."""

    code = "generation_failed"

    def __init__(self, message: str | Promise, *, code: str = "generation_failed", details: Any = None) -> None:
        super().__init__(str(message), code=code, details=details)


class JobCancelled(Exception):
    """The user asked to cancel; raised from a checkpoint."""


class StageTimeout(Exception):
    """The stage ran past its time limit; raised from a checkpoint."""


class RunSuperseded(Exception):
    """Another worker took the job over (a redelivered task); this run must stop quietly."""


@dataclass
class StageOutput:
    data: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    preview: bytes | None = None  # PNG or JPEG shown on the job page
    preview_type: str = "image/jpeg"
    # A remark for the user: a code from stages.NOTES (translated when shown, in the reader's
    # language) or, from other backends, plain text shown as is.
    note: str = ""


class StageContext(Protocol):
    job_id: str
    options: dict[str, Any]
    owner_id: int
    owner_name: str
    time_left: float  # seconds before the stage's limit

    def input_photo(self) -> bytes: ...

    def data(self, stage: str) -> dict[str, Any]: ...

    def file(self, stage: str, name: str) -> bytes: ...

    def checkpoint(self, fraction: float | None = None) -> None: ...


class Stage(ABC):
    """Base class of stage backends. Subclasses set `name` and implement `run`."""

    name: ClassVar[str] = ""

    @abstractmethod
    def run(self, ctx: StageContext) -> StageOutput:
        """Do the stage's work from the context's inputs; raise StageError for user-facing failures."""
