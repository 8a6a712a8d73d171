"""`manage.py runembedded`: run the whole platform on one machine with embedded defaults."""
from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from avatarforge import embedded


class Command(BaseCommand):
    help = "Start Redis (embedded), Daphne, a Celery worker, Celery beat and the local LLM server if none is configured."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options) -> None:
        env = embedded.child_env()
        procs = embedded.build_processes(var_dir=settings.VAR_DIR, host=host, port=port, env=env)

        def ready() -> None:
            self.stdout.write(self.style.SUCCESS(f"\nAvatarForge is running at http://{host}:{port}/  (Ctrl-C stops)\n"))

        raise SystemExit(embedded.supervise(procs, env, ready))
