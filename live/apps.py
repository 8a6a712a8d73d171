from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiveConfig(AppConfig):
    name = "live"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("AI VTuber live mode")

    def ready(self) -> None:
        import sys

        from avatarforge.embedded import Process, register_process

        # `make run` starts one live worker beside Daphne and the Celery worker.
        register_process(lambda env: Process("live-worker", [sys.executable, "manage.py", "live_worker"]))
