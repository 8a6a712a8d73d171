"""The job progress socket re-reads the job for every client message: it is rate limited."""
from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from generation import consumers

from .conftest import create_job
from .test_consumers import _fresh_layers, connect  # noqa: F401 - the fixture is autouse there

pytestmark = pytest.mark.django_db(transaction=True)


async def test_refresh_flood_is_refused_without_reading_the_job(user, face_jpeg, monkeypatch):
    job = await database_sync_to_async(create_job)(user, face_jpeg)
    ws, _ = await connect(job.id, user)
    await ws.receive_json_from(timeout=5)
    reads = []
    original = consumers.selectors.job_for
    monkeypatch.setattr(consumers.selectors, "job_for", lambda **kw: reads.append(1) or original(**kw))
    for _ in range(consumers.MESSAGES_PER_WINDOW + 5):
        await ws.send_json_to({"action": "refresh"})
    replies = [await ws.receive_json_from(timeout=5) for _ in range(consumers.MESSAGES_PER_WINDOW + 5)]
    assert [r["type"] for r in replies].count("job") == consumers.MESSAGES_PER_WINDOW
    limited = [r for r in replies if r["type"] == "error"]
    assert len(limited) == 5 and {r["code"] for r in limited} == {"rate_limited"}
    assert len(reads) == consumers.MESSAGES_PER_WINDOW
