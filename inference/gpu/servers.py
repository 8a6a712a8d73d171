"""Clients of the model servers on a GPU host, over their real protocols.

- vLLM (`--enable-sleep-mode`, `VLLM_SERVER_DEV_MODE=1`): `POST /sleep?level=1|2`,
  `POST /wake_up[?tags=weights|kv_cache]`, `GET /is_sleeping` -> `{"is_sleeping": bool}`,
  `GET /health`.
- GPT-SoVITS api_v2: `GET /set_gpt_weights?weights_path=...`, `GET /set_sovits_weights?weights_path=...`
  (no unload route: the process is stopped to free the GPU).
- Any other engine: a supervised process with a health route.

Every server call is timed into a `Timing`, so a switch can tell the servers' time from ours.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

import httpx

from .conf import ServiceConfig
from .processes import ManagedProcess

logger = logging.getLogger(__name__)
# One INFO line per probe from the HTTP client is noise (probes run every heartbeat).
logging.getLogger("httpx").setLevel(logging.WARNING)

State = Literal["awake", "sleeping", "down"]
PROBE_TIMEOUT = 5.0  # seed 004 section 10.3: each health check times out after 5 s
POLL_INTERVAL = 0.01  # while waiting for a starting server; small, since it counts as our time


class ServerError(Exception):
    """A model server did not do what was asked (refused, crashed, timed out)."""

    def __init__(self, service: str, message: str) -> None:
        self.service = service
        super().__init__(f"{service}: {message}")


@dataclass
class Timing:
    """Milliseconds spent waiting on servers during one switch, per step."""

    steps: list[tuple[str, float]] = field(default_factory=list)

    @contextmanager
    def server(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.steps.append((step, (time.perf_counter() - started) * 1000))

    @property
    def server_ms(self) -> float:
        return sum(ms for _step, ms in self.steps)


class ModelServer:
    """One service. Subclasses say how it leaves and re-enters the GPU."""

    def __init__(self, cfg: ServiceConfig, log_dir, client: httpx.Client, step_timeout: float) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.client = client
        self.step_timeout = step_timeout
        self.process = ManagedProcess(cfg.name, cfg.command, cfg.env, log_dir) if cfg.supervised else None

    # --- probes ---------------------------------------------------------------------------------
    def answers(self) -> bool:
        try:
            response = self.client.get(self.cfg.url + self.cfg.health_path, timeout=PROBE_TIMEOUT)
        except httpx.HTTPError:
            return False
        return response.status_code < 500

    def state(self) -> State:
        """What the server says now (never what we remember)."""
        return "awake" if self.answers() else "down"

    def timed_state(self, timing: Timing) -> State:
        with timing.server(f"{self.name}.probe"):
            return self.state()

    # --- process --------------------------------------------------------------------------------
    def start_process(self, timing: Timing) -> None:
        if self.process is None:
            raise ServerError(self.name, "is not answering and has no command to start it (GPU_SERVICES.command)")
        self.process.forget_if_dead()
        with timing.server(f"{self.name}.start"):  # spawning the process is the server's start too
            if not self.process.alive():
                self.process.start()
            self._wait_until(self.answers, self.cfg.start_timeout, "did not answer after starting (see its log)")

    def _wait_until(self, ready: Callable[[], bool], timeout: float, failure: str) -> None:
        end = time.monotonic() + timeout
        while not ready():
            if self.process is not None and not self.process.alive():
                raise ServerError(self.name, f"exited while starting; log: {self.process.log_path}")
            if time.monotonic() > end:
                raise ServerError(self.name, failure)
            time.sleep(POLL_INTERVAL)

    def stop_process(self, timing: Timing) -> None:
        if self.process is None:
            raise ServerError(self.name, "is external (no command): it cannot be stopped to free memory")
        with timing.server(f"{self.name}.stop"):
            self.process.stop()

    # --- modes ----------------------------------------------------------------------------------
    def enter(self, timing: Timing) -> None:
        """Make the service resident and ready."""
        if self.timed_state(timing) != "awake":
            self.start_process(timing)

    def leave(self, timing: Timing) -> bool:
        """Give the service's GPU memory back. True if it was resident (so a rollback brings it back)."""
        if not self.cfg.can_leave or self.timed_state(timing) == "down":
            return False
        self.stop_process(timing)
        return True

    def _call(self, method: str, path: str, timing: Timing, step: str, **params: object) -> httpx.Response:
        with timing.server(step):
            try:
                response = self.client.request(method, self.cfg.url + path, params=params or None, timeout=self.step_timeout)
            except httpx.HTTPError as exc:
                raise ServerError(self.name, f"{method} {path} failed: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            raise ServerError(self.name, f"{method} {path} answered {response.status_code}: {response.text[:200]}")
        return response


class VllmServer(ModelServer):
    """vLLM with sleep mode: stays up; leaves the GPU by sleeping, comes back by waking."""

    def __init__(self, *args, warm_up: Callable[[ServiceConfig], None] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.warm_up = warm_up

    def is_sleeping(self) -> bool:
        response = self.client.get(self.cfg.url + "/is_sleeping", timeout=PROBE_TIMEOUT)
        response.raise_for_status()
        value = response.json().get("is_sleeping")
        if not isinstance(value, bool):
            raise ServerError(self.name, "GET /is_sleeping did not answer {\"is_sleeping\": bool}")
        return value

    def state(self) -> State:
        if not self.answers():
            return "down"
        try:
            return "sleeping" if self.is_sleeping() else "awake"
        except (httpx.HTTPError, ValueError, ServerError):
            # /health answers but the sleep routes do not: started without VLLM_SERVER_DEV_MODE=1.
            logger.warning("gpu: %s answers /health but not /is_sleeping (is VLLM_SERVER_DEV_MODE=1 set?)", self.name)
            return "awake"

    def leave(self, timing: Timing) -> bool:
        state = self.timed_state(timing)
        if state != "awake":
            return False  # down, or asleep already
        self._call("POST", "/sleep", timing, f"{self.name}.sleep", level=self.cfg.sleep_level)
        with timing.server(f"{self.name}.is_sleeping"):
            sleeping = self.is_sleeping()
        if not sleeping:
            raise ServerError(self.name, "still awake after POST /sleep")
        return True

    def enter(self, timing: Timing) -> None:
        state = self.timed_state(timing)
        if state == "down":
            self.start_process(timing)  # a fresh vLLM starts awake
        elif state == "sleeping":
            # Weights first, then the KV cache: waking both at once needs their sum free at once.
            self._call("POST", "/wake_up", timing, f"{self.name}.wake_weights", tags="weights")
            self._call("POST", "/wake_up", timing, f"{self.name}.wake_kv_cache", tags="kv_cache")
            with timing.server(f"{self.name}.is_sleeping"):
                sleeping = self.is_sleeping()
            if sleeping:
                raise ServerError(self.name, "still sleeping after POST /wake_up")
        if self.warm_up is not None and self.cfg.llm_model:
            # One token through the real gateway: the first user after a wake does not pay for
            # CUDA graph capture and allocator warm-up.
            with timing.server(f"{self.name}.warm_up"):
                self.warm_up(self.cfg)


class GptSovitsServer(ModelServer):
    """GPT-SoVITS api_v2, started and stopped as a process; weights chosen after start."""

    def enter(self, timing: Timing) -> None:
        if self.timed_state(timing) == "awake":
            return
        self.start_process(timing)
        if self.cfg.gpt_weights:
            self._call("GET", "/set_gpt_weights", timing, f"{self.name}.set_gpt_weights", weights_path=self.cfg.gpt_weights)
        if self.cfg.sovits_weights:
            self._call("GET", "/set_sovits_weights", timing, f"{self.name}.set_sovits_weights", weights_path=self.cfg.sovits_weights)


def build_server(cfg: ServiceConfig, *, log_dir, client: httpx.Client, step_timeout: float,
                 warm_up: Callable[[ServiceConfig], None] | None = None) -> ModelServer:
    if cfg.kind == "vllm":
        return VllmServer(cfg, log_dir, client, step_timeout, warm_up=warm_up)
    if cfg.kind == "gpt_sovits":
        return GptSovitsServer(cfg, log_dir, client, step_timeout)
    return ModelServer(cfg, log_dir, client, step_timeout)
