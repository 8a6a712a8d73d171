from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = _("Chat")

    def ready(self) -> None:
        from accounts.usage import register_counter
        from avatarforge.embedded import register_process
        from avatarforge.health import register_check

        from . import checks, embedded_llm, gateway  # noqa: F401 - checks registers itself
        from .selectors import count_concurrent_conversations

        register_counter("concurrent_conversations", _("AI conversations answering at once"), count_concurrent_conversations)
        register_check("llm", lambda: gateway.ping(gateway.get_model(None)), core=False)
        register_process(embedded_llm.process_for_embedded_run)
