"""Shared pytest fixtures from tests/support (wired in the root conftest via pytest_plugins).

`fake_llm`: a FakeOpenAI server (tests/support/fake_openai.py) with settings.LLM_MODELS pointing
at it, as model "fake" (the default) and "fake-small" (a 2,048-token context). Script answers
with `fake_llm.reply(...)`, `fake_llm.reply_json({...})`, `fake_llm.fail(status, ...)`; inspect
`fake_llm.requests`. Gateway retries wait only milliseconds here.
"""
from __future__ import annotations

import pytest

from tests.support.fake_openai import FakeOpenAI


@pytest.fixture
def fake_llm(settings, monkeypatch):
    from inference.llm import completion, retry, stream

    monkeypatch.setattr(retry, "RETRY_BASE_DELAY", 0.005)
    monkeypatch.setattr(completion, "_json_support", {})
    monkeypatch.setattr(stream, "_constraint_refused", set())
    server = FakeOpenAI(models=("fake-model",)).start()
    settings.LLM_MODELS = [
        server.model_config("fake", label="Fake model"),
        server.model_config("fake-small", label="Fake small model", context_length=2048, max_tokens=256),
    ]
    settings.LLM_BASE_URL = ""
    try:
        yield server
    finally:
        server.stop()
