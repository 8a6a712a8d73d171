"""`manage.py gpu_worker`: the GPU worker of this host (see docs/gpu.md)."""
from __future__ import annotations

import os

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Run this GPU host's worker: a Celery worker on the gpu queues with concurrency 1 and prefetch 1 "
            "that owns the GPU's mode and supervises its model servers (configured by GPU_* variables).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--loglevel", default="INFO")

    def handle(self, *args, loglevel: str, **options) -> None:
        from inference.gpu.worker_command import worker_argv

        os.environ["GPU_WORKER"] = "1"  # tasks.py starts the runtime in this process at worker_init
        import inference.gpu.tasks  # noqa: F401 - connects the worker signals before the worker starts
        from avatarforge.celery import app

        app.worker_main(worker_argv(loglevel=loglevel))
