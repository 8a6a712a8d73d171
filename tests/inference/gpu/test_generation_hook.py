"""A generation job on a GPU worker runs in the gen3d mode and holds it until the job ends."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from inference.gpu import tasks, worker

from .conftest import free_port, tts_command

pytestmark = pytest.mark.django_db


def test_a_generation_task_switches_to_gen3d_and_holds_it(make_host, gpu_env, ledger, vllm, monkeypatch):
    port = free_port()
    services = json.loads(gpu_env["GPU_SERVICES"])
    # A generic supervised engine (kind "process") on the GPU; the fake's FastAPI-like /docs is its health route.
    services["gen3d"] = {"kind": "process", "url": f"http://127.0.0.1:{port}", "vram_mb": 3500,
                         "command": tts_command(port, ledger.url), "health_path": "/docs"}
    host = make_host(GPU_SERVICES=json.dumps(services))
    host.recover()
    runtime = worker.Runtime(host.cfg, host.store, host)
    monkeypatch.setattr(worker, "_runtime", runtime)
    job_task = SimpleNamespace(name="generation.run_job")

    tasks._generation_takes_the_gpu(task_id="job-1", task=job_task)

    assert host.mode == "gen3d" and vllm.is_sleeping
    assert host.servers["gen3d"].state() == "awake"
    assert host.store.lease_count(host.cfg.host, "gen3d") == 1  # a mode request now waits for the job
    tasks._generation_gives_the_gpu_back(task_id="job-1")
    assert host.store.lease_count(host.cfg.host, "gen3d") == 0

    other = SimpleNamespace(name="chat.summarize_conversation")
    tasks._generation_takes_the_gpu(task_id="x", task=other)  # other tasks do not touch the GPU
    assert host.mode == "gen3d"
    assert host.ensure("chat").current_mode == "chat" and not vllm.is_sleeping
