from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiveConfig(AppConfig):
    name = "live"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("AI VTuber live mode")

    def ready(self) -> None:
        import sys

        from avatarforge.embedded import Process, register_process
        from characters.personas.signals import characters_hidden

        characters_hidden.connect(_stop_hidden_characters_sessions, dispatch_uid="live-stop-hidden")
        # `make run` starts one live worker beside Daphne and the Celery worker.
        register_process(lambda env: Process("live-worker", [sys.executable, "manage.py", "live_worker"]))


def _stop_hidden_characters_sessions(sender: object, *, character_ids: list, **kwargs: object) -> None:
    from .services import stop_sessions_of_hidden_characters

    stop_sessions_of_hidden_characters(character_ids=character_ids)
