"""/api/health's `live` component counts live workers by their Redis heartbeat; the purge runs on beat."""
from __future__ import annotations

import pytest
from django.conf import settings

from characters.models import Character
from live import worker
from live.models import LiveSession, SessionStatus
from live.wiring import intake_for, responder_for


@pytest.mark.django_db(transaction=True)
async def test_workers_are_counted_and_running_sessions_without_one_are_an_error(async_client, user):
    from channels.db import database_sync_to_async

    response = await async_client.get("/api/health")
    live = response.json()["components"]["live"]
    assert (live["status"], live["detail"]) == ("ok", "0 live workers, 0 sessions held, 0 running")
    character = await database_sync_to_async(Character.objects.create)(owner=user, name="Miro")
    await database_sync_to_async(LiveSession.objects.create)(owner=user, character=character, title="S",
                                                            status=SessionStatus.RUNNING)
    body = (await async_client.get("/api/health")).json()
    assert body["components"]["live"]["status"] == "error"
    live_worker = worker.LiveWorker(responder_for=responder_for, intake_for=intake_for)
    await live_worker.tick()
    await live_worker._heartbeat()
    body = (await async_client.get("/api/health")).json()
    assert body["components"]["live"]["status"] == "ok"
    assert body["components"]["live"]["detail"] == "1 live workers, 1 sessions held, 1 running"
    for session_id in list(live_worker.runners):
        await live_worker._drop(session_id)
    await live_worker.redis.delete(worker.heartbeat_key(live_worker.owner))
    await live_worker.redis.aclose()


def test_viewer_memory_purge_is_on_the_beat_schedule():
    from live.tasks import purge_viewer_memory

    entry = settings.CELERY_BEAT_SCHEDULE["live-purge-viewer-memory"]
    assert entry["task"] == purge_viewer_memory.name == "live.purge_viewer_memory"
