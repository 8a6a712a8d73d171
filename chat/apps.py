from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import npgettext


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = _("Chat")

    def ready(self) -> None:
        from accounts.usage import register_counter
        from avatarforge.embedded import register_process
        from avatarforge.health import register_check
        from inference import checks, llm  # noqa: F401 - checks registers the LLM configuration check
        from inference.embedded_run import process_for_embedded_run

        from .selectors import count_concurrent_conversations

        register_counter(
            "concurrent_conversations", _("AI conversations answering at once"), count_concurrent_conversations,
            label_for_count=lambda n: npgettext("plan limit", "AI conversation answering at once", "AI conversations answering at once", n),
        )
        # Chat is what needs a model: it asks for the LLM's health line and, in `make run`, the
        # embedded model server (inference's AppConfig stays bare so it holds no app wiring).
        register_check("llm", lambda: llm.ping(llm.get_model(None)), core=False)
        register_process(process_for_embedded_run)
        # Voice sessions run in their own worker process, never in Daphne (chat/voice/worker.py).
        from .voice.embedded_run import voice_worker_process

        register_process(voice_worker_process)
