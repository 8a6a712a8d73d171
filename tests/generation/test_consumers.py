"""The job progress WebSocket: a live stream of committed states while the pipeline runs, cancel,
and authorization."""
from __future__ import annotations

import asyncio
import contextlib

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import connections

from accounts.services import create_api_token
from avatarforge.ws_auth import WebSocketAuthMiddleware
from generation import routing
from generation.models import GenerationJob, JobStatus
from generation.pipeline import run_job

from .conftest import create_job

pytestmark = pytest.mark.django_db(transaction=True)

app = WebSocketAuthMiddleware(URLRouter(routing.websocket_urlpatterns))
_open: list[WebsocketCommunicator] = []
FINISHED = {"succeeded", "failed", "cancelled"}


@pytest.fixture(autouse=True)
async def _fresh_layers():
    channel_layers.backends.clear()
    yield
    while _open:
        with contextlib.suppress(Exception):
            await _open.pop().disconnect(timeout=2)
    for layer in list(channel_layers.backends.values()):
        close = getattr(layer, "close_pools", None)
        if close is not None:
            await close()
    channel_layers.backends.clear()


def worker_process(job_id: str) -> str:
    try:
        return run_job(job_id=job_id)
    finally:
        connections.close_all()


async def connect(job_id, user=None) -> tuple[WebsocketCommunicator, bool]:
    headers = []
    if user is not None:
        token = await database_sync_to_async(lambda: create_api_token(user=user, name="ws")[1])()
        headers.append((b"authorization", f"Bearer {token}".encode()))
    ws = WebsocketCommunicator(app, f"/ws/generate/{job_id}/", headers=headers)
    connected, _ = await ws.connect(timeout=5)
    _open.append(ws)
    return ws, connected


async def test_progress_streams_live_while_the_pipeline_runs(user, face_jpeg):
    job = await database_sync_to_async(create_job)(user, face_jpeg, name="Live")
    ws, connected = await connect(job.id, user)
    assert connected
    first = await ws.receive_json_from(timeout=5)
    assert first["type"] == "job" and first["job"]["status"] == "queued" and first["job"]["job_id"] == str(job.id)

    # The worker is another process in production: run it on its own thread (and DB connection), not
    # on the thread the consumer's database calls share.
    worker = asyncio.ensure_future(asyncio.to_thread(worker_process, str(job.id)))
    seen = []
    while True:
        message = await ws.receive_json_from(timeout=60)
        assert message["type"] == "job"
        seen.append(message["job"])
        if message["job"]["status"] in FINISHED:
            break
    assert await worker == "succeeded"

    final = seen[-1]
    assert final["status"] == "succeeded" and final["progress"] == 100 and final["result_url"]
    assert final["avatar"]["name"] == "Live"
    progress = [m["progress"] for m in seen]
    assert progress == sorted(progress)  # never goes backwards
    assert any(m["status"] == "running" for m in seen)
    steps = [m["current_step"] for m in seen if m["status"] == "running"]
    labels = ["Reading the photo", "Finding the face", "Drawing the cartoon look", "Reading hair, eyes and colours",
              "Building the body", "Rigging the skeleton and face", "Writing the VRM file", "Checking the avatar",
              "Adding it to your library"]
    assert set(steps) <= set(labels) and len(set(steps)) >= 2  # fast stages may finish between two reads
    assert [labels.index(step) for step in steps] == sorted(labels.index(step) for step in steps)
    # Previews arrive stage by stage, before the job is over.
    first_with_preview = {}
    for index, message in enumerate(seen):
        for stage in message["stages"]:
            if stage["preview_url"] and stage["name"] not in first_with_preview:
                first_with_preview[stage["name"]] = index
    assert first_with_preview["detect"] < len(seen) - 1
    assert first_with_preview["detect"] <= first_with_preview["export"]
    # What was streamed is what the database holds.
    db_job = await database_sync_to_async(GenerationJob.objects.get)(pk=job.pk)
    assert db_job.status == JobStatus.SUCCEEDED and db_job.progress == 100


async def test_cancel_over_the_socket(user, face_jpeg):
    job = await database_sync_to_async(create_job)(user, face_jpeg)
    ws, _ = await connect(job.id, user)
    await ws.receive_json_from(timeout=5)
    await ws.send_json_to({"action": "cancel"})
    message = await ws.receive_json_from(timeout=5)
    while message["job"]["status"] != "cancelled":
        message = await ws.receive_json_from(timeout=5)
    assert message["job"]["can_cancel"] is False
    await ws.send_json_to({"action": "cancel"})
    error = await ws.receive_json_from(timeout=5)
    while error["type"] != "error":
        error = await ws.receive_json_from(timeout=5)
    assert error["code"] == "job_finished"
    await ws.send_json_to({"action": "dance"})
    error = await ws.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == "unknown_action"
    await ws.send_to(text_data="x" * 5000)
    error = await ws.receive_json_from(timeout=5)
    assert error["code"] == "invalid_message"
    await ws.send_to(text_data="[" * 500 + "]" * 500)  # the shared decoder's depth limit
    error = await ws.receive_json_from(timeout=5)
    assert error["code"] == "json_too_deep"
    await ws.send_to(text_data="{oops")
    error = await ws.receive_json_from(timeout=5)
    assert error["code"] == "invalid_json"


async def test_refresh_sends_the_current_state(user, face_jpeg):
    job = await database_sync_to_async(create_job)(user, face_jpeg)
    ws, _ = await connect(job.id, user)
    await ws.receive_json_from(timeout=5)
    await ws.send_json_to({"action": "refresh"})
    message = await ws.receive_json_from(timeout=5)
    assert message["job"]["job_id"] == str(job.id)


async def test_anonymous_is_refused(face_jpeg, user):
    job = await database_sync_to_async(create_job)(user, face_jpeg)
    ws, _ = await connect(job.id)
    error = await ws.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == "not_authenticated"
    assert (await ws.receive_output(timeout=5))["code"] == 4401


async def test_another_users_job_is_not_found(user, other_user, face_jpeg):
    job = await database_sync_to_async(create_job)(user, face_jpeg)
    ws, _ = await connect(job.id, other_user)
    error = await ws.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == "not_found"
    assert (await ws.receive_output(timeout=5))["code"] == 4404
    # Nothing of the job leaked, and it is untouched.
    assert "job" not in error
    db_job = await database_sync_to_async(GenerationJob.objects.get)(pk=job.pk)
    assert db_job.status == JobStatus.QUEUED
