"""Fixtures of the memory tests: a fake model that answers extraction requests with facts."""
from __future__ import annotations

import json

import pytest

from chat.memories import extraction
from tests.support.fake_openai import Reply


def is_extraction(body: dict) -> bool:
    return any(extraction.SYSTEM_PREFIX in (m.get("content") or "") for m in body["messages"])


@pytest.fixture
def facts_llm(fake_llm, settings, eager_tasks):
    """Chat replies "[happy] Nice!"; extraction requests get the facts queued in `facts` (FIFO lists)."""
    settings.MEMORY_IDLE_SECONDS = 0
    queue: list[list[str]] = []

    def respond(body: dict) -> Reply:
        if is_extraction(body):
            return Reply(json.dumps({"facts": queue.pop(0) if queue else []}, ensure_ascii=False))
        return Reply("[happy] Nice!")

    fake_llm.responder = respond
    fake_llm.facts = queue
    return fake_llm
