from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "calls"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The voice worker (chat) cannot import this app (it sits above chat); it learns here
        # which handler runs a "character_call" request it takes from the shared queue.
        from chat.voice.dispatch import register_request_kind

        register_request_kind("character_call", "calls.worker.run_character_call")
