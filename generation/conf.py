"""Settings of avatar generation, read from the environment (documented in .env.example).

Kept here rather than in avatarforge/settings.py so the feature owns them; a Django setting of the
same name (e.g. set by a test's `settings` fixture) wins over the environment.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from avatarforge.env import env_int, env_json, env_str


def _backends() -> dict[str, str]:
    value = env_json("GENERATION_BACKENDS", {})
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ImproperlyConfigured(
            'Environment variable GENERATION_BACKENDS must be a JSON object of stage name to dotted class path, '
            'e.g. {"stylize": "mypackage.stages.DiffusionStylize"}.'
        )
    return value


_DEFAULTS: dict[str, Any] = {
    # Largest accepted upload, and the decoded-pixel ceiling that stops decompression bombs.
    "GENERATION_MAX_UPLOAD_BYTES": env_int("GENERATION_MAX_UPLOAD_BYTES", 15 * 1024 * 1024, minimum=1024),
    "GENERATION_MAX_PIXELS": env_int("GENERATION_MAX_PIXELS", 40_000_000, minimum=10_000),
    # Seconds one stage may run; the whole task gets this times the number of stages.
    "GENERATION_STAGE_TIMEOUT": env_int("GENERATION_STAGE_TIMEOUT", 120, minimum=2, maximum=3600),
    # A queued job no worker has started after this many seconds is failed (lost broker message).
    "GENERATION_QUEUE_TIMEOUT": env_int("GENERATION_QUEUE_TIMEOUT", 3600, minimum=60),
    # Celery queue of generation tasks ("gpu" routes them to GPU hosts).
    "GENERATION_QUEUE": env_str("GENERATION_QUEUE", "default"),
    # Replacement stage backends: {"stage": "dotted.path.Class"}.
    "GENERATION_BACKENDS": _backends(),
    # Node.js binary for the glTF validator and the three-vrm load check.
    "GENERATION_NODE": env_str("GENERATION_NODE", "node"),
    # Retries a user may ask for per job, and crash redeliveries tolerated per run.
    "GENERATION_MAX_RETRIES": env_int("GENERATION_MAX_RETRIES", 3, minimum=0, maximum=20),
    "GENERATION_MAX_RECOVERIES": env_int("GENERATION_MAX_RECOVERIES", 1, minimum=0, maximum=5),
}


# Celery task names: services queue work by name, so they never import the tasks module (which
# imports the pipeline, which imports the services).
RUN_JOB_TASK = "generation.run_job"
SWEEP_TASK = "generation.sweep_stale_jobs"
STYLE_JOB_TASK = "generation.run_style_job"


def setting(name: str) -> Any:
    return getattr(settings, name, _DEFAULTS[name])
