"""The GPU worker's runtime inside its Celery process: lock, recovery, supervision, requests.

Started by the `worker_init` signal when GPU_WORKER=1 (set by `manage.py gpu_worker`), before the
worker consumes anything: it takes the Redis lock of its GPU (waiting while another live worker
holds it), learns the mode from the servers, and runs a supervisor thread that renews the lock,
restarts crashed servers and publishes a heartbeat snapshot (mode, per-service health, VRAM).
Mode requests (tasks on the host's own queue) are answered through Redis.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid

from avatarforge.errors import AppError

from . import llm_adapter
from .conf import GpuConfig, load_config
from .host import GpuHost
from .state import GpuStore, store
from .vram import reader_from

logger = logging.getLogger(__name__)

EXIT_LOCK_LOST = 75  # the process stops controlling a GPU another worker now owns


class Runtime:
    def __init__(self, cfg: GpuConfig, gpu_store: GpuStore, host: GpuHost) -> None:
        self.cfg = cfg
        self.store = gpu_store
        self.host = host
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_environment(cls) -> Runtime:
        cfg = load_config()
        gpu_store = store()
        host = GpuHost(cfg, store=gpu_store, reader=reader_from(cfg.vram_reader),
                       warm_up=llm_adapter.warm_up, replies_in_flight=llm_adapter.replies_in_flight)
        return cls(cfg, gpu_store, host)

    # --- life cycle -------------------------------------------------------------------------------
    def start(self) -> None:
        self._take_lock()
        mode = self.host.recover()
        if mode is None:
            # Half-switched (a worker died mid-switch) or fresh: settle on the default mode.
            target = self.cfg.default_mode
            logger.warning("gpu %s: servers are in no mode; switching to %s", self.cfg.host, target)
            try:
                self.host.ensure(target)
            except AppError as exc:
                logger.error("gpu %s: could not reach %s at start: %s %s", self.cfg.host, target, exc.code, exc.details)
        elif not self.host.switching_enabled:
            self.host.ensure(mode)
        self.publish()
        self._thread = threading.Thread(target=self._loop, name="gpu-supervisor", daemon=True)
        self._thread.start()

    def _take_lock(self) -> None:
        end = time.monotonic() + self.cfg.lock_wait
        while not self.store.acquire_lock(self.cfg.host, self.cfg.gpu_index, self.owner, self.cfg.lock_ttl):
            if time.monotonic() > end:
                holder = self.store.lock_owner(self.cfg.host, self.cfg.gpu_index)
                raise SystemExit(f"GPU {self.cfg.host}:{self.cfg.gpu_index} is owned by another worker ({holder})")
            time.sleep(0.2)
        logger.info("gpu %s: lock of GPU %d taken by %s", self.cfg.host, self.cfg.gpu_index, self.owner)

    def _loop(self) -> None:
        while not self._stop.wait(self.cfg.heartbeat_interval):
            try:
                self._keep_lock()
                self.host.supervise_once()
                self.publish()
            except Exception:  # a Redis hiccup must not end supervision; the next round retries
                logger.exception("gpu %s: supervision round failed", self.cfg.host)

    def _keep_lock(self) -> None:
        if self.store.renew_lock(self.cfg.host, self.cfg.gpu_index, self.owner, self.cfg.lock_ttl):
            return
        # Expired (this process stalled past the TTL): take it back unless another worker has it.
        if self.store.acquire_lock(self.cfg.host, self.cfg.gpu_index, self.owner, self.cfg.lock_ttl):
            logger.warning("gpu %s: the GPU lock had expired; taken back", self.cfg.host)
            return
        holder = self.store.lock_owner(self.cfg.host, self.cfg.gpu_index)
        logger.critical("gpu %s: another worker (%s) owns the GPU now; stopping this one", self.cfg.host, holder)
        os._exit(EXIT_LOCK_LOST)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.store.forget_host(self.cfg.host)
        self.store.release_lock(self.cfg.host, self.cfg.gpu_index, self.owner)
        self.host.close()

    def publish(self) -> None:
        snapshot = self.host.snapshot(worker=self.owner)
        snapshot.update(heartbeat_interval=self.cfg.heartbeat_interval, lease_ttl=self.cfg.lease_ttl,
                        pending=self.store.pending_count(self.cfg.host))
        self.store.publish(self.cfg.host, snapshot)

    # --- requests ---------------------------------------------------------------------------------
    def handle(self, *, mode: str, ticket: str, lease: bool, deadline_ms: int) -> None:
        """Answer one queued mode request (FIFO: the queue hands them over one at a time)."""
        host = self.cfg.host
        try:
            if self.store.is_cancelled(host, ticket) or time.time() * 1000 > deadline_ms:
                return  # the caller gave up already; do not switch for nobody
            try:
                result = self.host.ensure(mode)
            except AppError as exc:
                self.store.reply(host, ticket, {"ok": False, "code": exc.code, "message": exc.message,
                                                "details": exc.details, "status": exc.status})
                return
            except Exception:
                logger.exception("gpu %s: switch to %s failed", host, mode)
                self.store.reply(host, ticket, {"ok": False, "code": "service_unavailable",
                                                "message": "The GPU worker failed to switch modes.", "details": None})
                return
            if lease and not self.store.is_cancelled(host, ticket):
                self.store.add_lease(host, mode, ticket, self.cfg.lease_ttl)
            self.store.reply(host, ticket, {"ok": True, **result.as_dict()})
        finally:
            self.store.remove_pending(host, ticket)
            self.publish()


_runtime: Runtime | None = None  # this process's runtime (not shared state: each worker has one GPU)


def runtime() -> Runtime | None:
    return _runtime


def start_runtime() -> Runtime:
    global _runtime
    _runtime = Runtime.from_environment()
    _runtime.start()
    return _runtime


def stop_runtime() -> None:
    global _runtime
    if _runtime is not None:
        _runtime.stop()
        _runtime = None
