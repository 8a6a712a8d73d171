"""System checks: a bad LLM configuration fails at start with a clear message, not at the first
chat message."""
from __future__ import annotations

from django.core.checks import Error, register


@register()
def check_llm_models(app_configs, **kwargs) -> list[Error]:
    from . import gateway

    try:
        gateway.list_models()
    except ValueError as exc:
        return [Error(f"LLM configuration: {exc}", hint="Fix LLM_MODELS (see .env.example).", id="chat.E001")]
    return []
