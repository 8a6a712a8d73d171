"""Celery side of the GPU worker: the mode-request task and the worker's life-cycle signals.

Tasks take plain values (host, mode, ticket) and call the runtime. Generation jobs that land on a
GPU worker run in the `gen3d` mode: the GPU is switched before the job starts and held (a lease)
until it ends, so no mode request takes the GPU away mid-job.
"""
from __future__ import annotations

import logging
import os
import uuid

from celery import shared_task
from celery.signals import task_postrun, task_prerun, worker_init, worker_shutdown

logger = logging.getLogger(__name__)

GENERATION_TASK = "generation.run_job"
GENERATION_MODE = "gen3d"


@shared_task(name="inference.gpu.ensure_mode", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def ensure_mode(host: str, mode: str, ticket: str, lease: bool, deadline_ms: int) -> None:
    from .state import store
    from .worker import runtime

    rt = runtime()
    if rt is None or rt.cfg.host != host:
        store().reply(host, ticket, {"ok": False, "code": "service_unavailable", "details": {"host": host},
                                     "message": "This worker does not own that GPU host."})
        return
    rt.handle(mode=mode, ticket=ticket, lease=lease, deadline_ms=deadline_ms)


@worker_init.connect
def _start_gpu_runtime(**_kwargs: object) -> None:
    if os.environ.get("GPU_WORKER") != "1":
        return  # an ordinary worker (queue default) in the same code base
    from .worker import start_runtime

    start_runtime()


@worker_shutdown.connect
def _stop_gpu_runtime(**_kwargs: object) -> None:
    from .worker import stop_runtime

    stop_runtime()


_generation_leases: dict[str, str] = {}  # task id -> lease ticket, within this worker process


@task_prerun.connect
def _generation_takes_the_gpu(task_id: str = "", task=None, **_kwargs: object) -> None:
    if task is None or task.name != GENERATION_TASK:
        return
    from .worker import runtime

    rt = runtime()
    if rt is None or GENERATION_MODE not in rt.cfg.modes:
        return
    # Raising here would fail the task without the job's own error handling; the stage backends
    # report a missing GPU service themselves, so a failed switch is logged and the job runs.
    try:
        rt.host.ensure(GENERATION_MODE)
    except Exception:
        logger.exception("gpu %s: could not switch to %s for generation task %s", rt.cfg.host, GENERATION_MODE, task_id)
        return
    ticket = uuid.uuid4().hex
    rt.store.add_lease(rt.cfg.host, GENERATION_MODE, ticket, rt.cfg.lease_ttl)
    _generation_leases[task_id] = ticket
    rt.publish()


@task_postrun.connect
def _generation_gives_the_gpu_back(task_id: str = "", **_kwargs: object) -> None:
    ticket = _generation_leases.pop(task_id, None)
    if ticket is None:
        return
    from .worker import runtime

    rt = runtime()
    if rt is not None:
        rt.store.release_lease(rt.cfg.host, GENERATION_MODE, ticket)
