"""System checks: a bad LLM configuration fails at start with a clear message, not at the first
chat message. (Imported by chat's AppConfig.ready, which registers what chat needs of inference.)"""
from __future__ import annotations

from django.core.checks import Error, register

from .llm.config import list_models


@register()
def check_llm_models(app_configs, **kwargs) -> list[Error]:
    try:
        list_models()
    except ValueError as exc:
        return [Error(f"LLM configuration: {exc}", hint="Fix LLM_MODELS (see .env.example).", id="chat.E001")]
    return []
