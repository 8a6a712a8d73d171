"""Pipeline stages: their order, labels, progress weights and the backend registry.

Each stage name has a default CPU backend; GENERATION_BACKENDS={"stylize": "pkg.Class"} swaps one
for another implementation of `Stage` (a GPU style-transfer, image-to-3D or auto-rigging model),
which must produce the same artifacts (documented on each default class).
"""
from __future__ import annotations

from functools import cache

from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from ..conf import setting
from .base import Stage, StageContext, StageError, StageOutput

PIPELINE: tuple[str, ...] = ("ingest", "detect", "stylize", "palette", "body", "rig", "export", "validate", "register")

LABELS = {
    "ingest": _("Reading the photo"),
    "detect": _("Finding the face"),
    "stylize": _("Drawing the cartoon look"),
    "palette": _("Reading hair, eyes and colours"),
    "body": _("Building the body"),
    "rig": _("Rigging the skeleton and face"),
    "export": _("Writing the VRM file"),
    "validate": _("Checking the avatar"),
    "register": _("Adding it to your library"),
}

# Stage notes stored as codes, translated when read (the worker does not know the reader's language).
NOTES = {
    "no_face_found": _(
        "No face was found (a drawing, or a face turned away), so a centred crop is used. "
        "Adjust the crop and run again if it misses."
    ),
}


def note_text(note: str) -> str:
    return str(NOTES.get(note, note))


# Share of the progress bar per stage (sums to 100), roughly their CPU time.
WEIGHTS = {"ingest": 5, "detect": 8, "stylize": 15, "palette": 4, "body": 12, "rig": 10, "export": 14, "validate": 24, "register": 8}

DEFAULT_BACKENDS = {
    "ingest": "generation.stages.ingest.IngestStage",
    "detect": "generation.stages.detect.DetectStage",
    "stylize": "generation.stages.stylize.StylizeStage",
    "palette": "generation.stages.palette.PaletteStage",
    "body": "generation.stages.build.BodyStage",
    "rig": "generation.stages.build.RigStage",
    "export": "generation.stages.build.ExportStage",
    "validate": "generation.stages.validate.ValidateStage",
    "register": "generation.stages.register.RegisterStage",
}


def backend_path(name: str) -> str:
    if name not in DEFAULT_BACKENDS:
        raise KeyError(f"unknown generation stage {name!r}")
    return setting("GENERATION_BACKENDS").get(name) or DEFAULT_BACKENDS[name]


@cache
def _load(path: str) -> type[Stage]:
    cls = import_string(path)
    if not (isinstance(cls, type) and issubclass(cls, Stage)):
        raise TypeError(f"{path} is not a generation Stage class")
    return cls


def get_stage(name: str) -> Stage:
    return _load(backend_path(name))()


def progress_at(stage: str, fraction: float) -> int:
    """Overall percent when `stage` is `fraction` done (0..99; 100 only when the job succeeds)."""
    done = sum(WEIGHTS[s] for s in PIPELINE[: PIPELINE.index(stage)])
    return max(0, min(99, int(done + WEIGHTS[stage] * max(0.0, min(1.0, fraction)))))


__all__ = ["PIPELINE", "LABELS", "NOTES", "WEIGHTS", "note_text", "Stage", "StageContext", "StageError", "StageOutput", "get_stage", "progress_at"]
