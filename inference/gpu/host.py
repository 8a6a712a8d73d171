"""The mode of one GPU and the servers on it: recover, switch, supervise, report.

Lives in the GPU worker process (one per GPU). Every decision starts from what the servers say
(`/is_sleeping`, whether a server answers), never from what a previous process remembered: a
worker killed mid-switch leaves the servers in some state, and the next worker reads it.

Switch order (seed 004 section 8, issue 14): wait for the current mode's users to finish (chat
replies in flight included), make the leaving services give their memory back (vLLM: sleep and
confirm /is_sleeping; processes: stop), check free VRAM with NVML against the target's
configured need, then bring the target's services in (vLLM: wake weights, wake KV cache, a
one-token warm-up; processes: start, wait for health, choose weights). Refused for lack of memory,
the previous mode is restored and the caller gets 507 vram_insufficient.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import httpx
from django.utils.translation import gettext as _

from avatarforge.errors import AppError

from .conf import ALL_MODE, SERVICE_NAMES, GpuConfig, ServiceConfig
from .errors import GpuUnavailable, VramInsufficient
from .servers import ModelServer, ServerError, Timing, build_server
from .state import GpuStore
from .vram import VramReader, VramReading, VramUnavailable

logger = logging.getLogger(__name__)

DRAIN_POLL_S = 0.02
RESTART_WINDOW_S = 600.0


@dataclass
class SwitchResult:
    previous_mode: str | None
    current_mode: str | None
    switch_time_ms: float
    server_ms: float = 0.0
    steps: list[tuple[str, float]] = field(default_factory=list)

    @property
    def overhead_ms(self) -> float:
        """Our own time in the switch: the total minus time spent waiting on servers."""
        return max(0.0, self.switch_time_ms - self.server_ms)

    def as_dict(self) -> dict:
        return {**asdict(self), "overhead_ms": round(self.overhead_ms, 2)}


class GpuHost:
    def __init__(
        self,
        cfg: GpuConfig,
        *,
        store: GpuStore,
        reader: VramReader,
        warm_up: Callable[[str], None] | None = None,
        replies_in_flight: Callable[[str], int] | None = None,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.reader = reader
        self.replies_in_flight = replies_in_flight
        self.client = httpx.Client(trust_env=False)
        warm = (lambda svc: self._warm_up(warm_up, svc)) if warm_up is not None else None
        self.servers: dict[str, ModelServer] = {
            name: build_server(svc, log_dir=cfg.log_dir, client=self.client, step_timeout=cfg.step_timeout, warm_up=warm)
            for name, svc in cfg.services.items()
        }
        self.mode: str | None = None
        self.switching_enabled = cfg.switching != "off"
        self.lock = threading.RLock()  # switches and supervision never interleave
        self.restarts: dict[str, list[float]] = {}
        self.last_states: dict[str, str] = {}
        self._snapshot: dict | None = None

    @staticmethod
    def _warm_up(fn: Callable[[str], None], svc: ServiceConfig) -> None:
        try:
            fn(svc.llm_model)
        except Exception as exc:  # the gateway's error family, or anything under it
            raise ServerError(svc.name, f"warm-up token failed: {getattr(exc, 'code', type(exc).__name__)}") from exc

    # --- reading the servers --------------------------------------------------------------------
    def states(self) -> dict[str, str]:
        self.last_states = {name: server.state() for name, server in self.servers.items()}
        return dict(self.last_states)

    def read_vram(self) -> VramReading | None:
        try:
            return self.reader.read(self.cfg.gpu_index)
        except VramUnavailable as exc:
            logger.warning("gpu: %s", exc)
            return None

    def _mode_from(self, states: dict[str, str]) -> str | None:
        """The mode the servers are in: its services awake, every service that could leave gone."""
        found = []
        for mode, names in self.cfg.modes.items():
            others = [s for s in self.servers if s not in names and self.cfg.services[s].can_leave]
            if all(states[s] == "awake" for s in names) and all(states[s] != "awake" for s in others):
                found.append(mode)
        if self.cfg.default_mode in found:
            return self.cfg.default_mode
        return found[0] if found else None

    def recover(self) -> str | None:
        """Learn the GPU's mode from the servers (after a start, or a worker that died mid-switch)."""
        with self.lock:
            if self.cfg.switching == "auto":
                reading = self.read_vram()
                # Enough memory for every service at once (with the margin): no switching at all.
                self.switching_enabled = not (reading and reading.total_mb >= self.cfg.all_vram_mb() + self.cfg.vram_margin_mb)
            states = self.states()
            self.mode = ALL_MODE if not self.switching_enabled else self._mode_from(states)
            self.store.set_state(self.cfg.host, mode=self.mode, switching="")
            logger.info("gpu %s: recovered mode %s from the servers %s (switching %s)",
                        self.cfg.host, self.mode, states, "on" if self.switching_enabled else "off")
            return self.mode

    # --- switching ------------------------------------------------------------------------------
    def ensure(self, target: str) -> SwitchResult:
        """Put the GPU in `target` mode (a no-op when it already is). Raises AppError."""
        if target not in self.cfg.modes:
            raise AppError(_("Unknown GPU mode."), code="unknown_mode", details={"available": sorted(self.cfg.modes)})
        started = time.perf_counter()
        with self.lock:
            previous = self.mode
            if not self.switching_enabled:
                return self._ensure_all(started)
            if previous == target and all(self.servers[s].state() == "awake" for s in self.cfg.mode_services(target)):
                return SwitchResult(previous, target, round((time.perf_counter() - started) * 1000, 2))
            self.store.set_state(self.cfg.host, mode=previous, switching=target)
            try:
                if previous:
                    self._drain(previous)
                result = self._switch(previous, target, started)
            finally:
                self.store.set_state(self.cfg.host, mode=self.mode, switching="")
            self.states()  # for health and the heartbeat (after the switch's clock stopped)
        self.store.log_switch(self.cfg.host, {
            "at": time.time(), "previous_mode": result.previous_mode, "current_mode": result.current_mode,
            "switch_time_ms": result.switch_time_ms, "server_ms": round(result.server_ms, 2),
            "overhead_ms": round(result.overhead_ms, 2),
        })
        return result

    def _ensure_all(self, started: float) -> SwitchResult:
        timing = Timing()
        try:
            for server in self.servers.values():
                server.enter(timing)
        except ServerError as exc:
            raise self._unavailable(exc) from exc
        self.mode = ALL_MODE
        self.states()
        return SwitchResult(ALL_MODE, ALL_MODE, round((time.perf_counter() - started) * 1000, 2), timing.server_ms, timing.steps)

    def _drain(self, mode: str) -> None:
        """Wait until nobody uses `mode` (leases, streaming chat replies). Raises 503 after the timeout."""
        end = time.monotonic() + self.cfg.drain_timeout
        while True:
            leases = self.store.lease_count(self.cfg.host, mode)
            replies = self._replies_in_flight(mode)
            if leases == 0 and replies == 0:
                return
            if time.monotonic() >= end:
                raise GpuUnavailable(
                    _("The GPU is still busy with the current mode's work. Try again shortly."),
                    details={"mode": mode, "in_use": leases, "replies_in_flight": replies},
                )
            time.sleep(DRAIN_POLL_S)

    def _replies_in_flight(self, mode: str) -> int:
        if self.replies_in_flight is None:
            return 0
        total = 0
        for name in self.cfg.mode_services(mode):
            svc = self.cfg.services[name]
            if svc.kind == "vllm" and svc.llm_model:
                total += self.replies_in_flight(svc.llm_model)
        return total

    def _switch(self, previous: str | None, target: str, started: float) -> SwitchResult:
        timing = Timing()
        wanted = set(self.cfg.mode_services(target))
        if previous:
            leaving = [s for s in self.cfg.mode_services(previous) if s not in wanted]
        else:  # unknown starting point (recovered mid-switch): everything that can leave does
            leaving = [s for s in self.servers if s not in wanted and self.cfg.services[s].can_leave]
        try:
            left = [name for name in leaving if self.servers[name].leave(timing)]
            self._check_vram(target, wanted, previous, left, timing)
            for name in self.cfg.mode_services(target):
                self.servers[name].enter(timing)
        except ServerError as exc:
            self.mode = self._mode_from(self.states())  # whatever the servers are in now
            raise self._unavailable(exc) from exc
        self.mode = target
        total = round((time.perf_counter() - started) * 1000, 2)
        logger.info("gpu %s: %s -> %s in %.0f ms (servers %.0f ms)", self.cfg.host, previous, target, total, timing.server_ms)
        return SwitchResult(previous, target, total, timing.server_ms, timing.steps)

    def _check_vram(self, target: str, wanted: set[str], previous: str | None, left: list[str], timing: Timing) -> None:
        need = sum(self.cfg.services[s].vram_mb for s in wanted if self.servers[s].timed_state(timing) != "awake")
        with timing.server("nvml.read"):  # the driver's time, not ours
            reading = self.read_vram()
        if reading is None:
            raise ServerError("nvml", "GPU memory could not be read")
        if reading.free_mb >= need + self.cfg.vram_margin_mb:
            return
        details = {"mode": target, "needed_mb": need + self.cfg.vram_margin_mb, "free_mb": reading.free_mb,
                   "total_mb": reading.total_mb}
        logger.warning("gpu %s: refusing %s: %s", self.cfg.host, target, details)
        # Do not leave the GPU empty: bring back what just left.
        try:
            for name in left:
                self.servers[name].enter(timing)
            self.mode = previous  # what left is back: the GPU is as it was
        except ServerError:
            logger.exception("gpu %s: could not restore %s after refusing %s", self.cfg.host, previous, target)
            self.mode = self._mode_from(self.states())
        raise VramInsufficient(details=details)

    @staticmethod
    def _unavailable(exc: ServerError) -> GpuUnavailable:
        logger.error("gpu: %s", exc)
        return GpuUnavailable(_("A model server on the GPU host failed. Try again shortly."),
                              details={"service": exc.service, "error": str(exc)[:300]})

    # --- supervision ----------------------------------------------------------------------------
    def expected_up(self, name: str) -> bool:
        if not self.switching_enabled:
            return True
        return name in self.cfg.mode_services(self.mode or "")

    def supervise_once(self) -> list[str]:
        """Restart crashed servers the current mode needs. Returns the restarted names.

        A server outside the current mode is left down (starting vLLM next to a loaded TTS would
        run out of memory); its next switch-in starts it.
        """
        if not self.lock.acquire(blocking=False):
            return []  # a switch is running; it owns the servers now
        restarted: list[str] = []
        try:
            states = self.states()
            for name, server in self.servers.items():
                if server.process is not None and server.process.forget_if_dead():
                    logger.error("gpu %s: %s exited (see %s)", self.cfg.host, name, server.process.log_path)
                if states[name] != "down" or not self.expected_up(name) or server.process is None:
                    continue
                recent = [t for t in self.restarts.get(name, []) if time.monotonic() - t < RESTART_WINDOW_S]
                if len(recent) >= self.cfg.restart_limit:
                    logger.error("gpu %s: %s crashed %d times in %.0f s; not restarting", self.cfg.host, name, len(recent), RESTART_WINDOW_S)
                    continue
                self.restarts[name] = [*recent, time.monotonic()]
                logger.warning("gpu %s: restarting %s", self.cfg.host, name)
                try:
                    server.enter(Timing())
                    restarted.append(name)
                except ServerError:
                    logger.exception("gpu %s: restart of %s failed", self.cfg.host, name)
            if restarted:
                self.states()
        finally:
            self.lock.release()
        return restarted

    # --- reporting ------------------------------------------------------------------------------
    def service_health(self) -> dict[str, str]:
        """healthy / unhealthy / sleeping / unknown for each of llm, tts, stt, gen3d, style."""
        health: dict[str, str] = {}
        for name in SERVICE_NAMES:
            state = self.last_states.get(name)
            if state is None:
                health[name] = "unknown"
            elif state == "awake":
                health[name] = "healthy"
            elif state == "sleeping" or (not self.expected_up(name) and self.cfg.services[name].can_leave):
                health[name] = "sleeping"  # off the GPU on purpose (another mode has it)
            else:
                health[name] = "unhealthy"
        return health

    def snapshot(self, *, worker: str) -> dict:
        """The heartbeat's view. Taken between switches only: mid-switch, the mode and the server
        states disagree, so the last consistent snapshot is repeated (with fresh VRAM)."""
        if self.lock.acquire(blocking=False):
            try:
                self._snapshot = self._build_snapshot(worker)
            finally:
                self.lock.release()
            return dict(self._snapshot)
        if self._snapshot is None:
            return self._build_snapshot(worker)
        reading = self.read_vram()
        return {**self._snapshot, "vram": self._vram_dict(reading)}

    @staticmethod
    def _vram_dict(reading: VramReading | None) -> dict | None:
        if reading is None:
            return None
        return {"used_mb": reading.used_mb, "total_mb": reading.total_mb, "usage_percent": reading.usage_percent}

    def _build_snapshot(self, worker: str) -> dict:
        reading = self.read_vram()
        return {
            "host": self.cfg.host,
            "gpu_index": self.cfg.gpu_index,
            "worker": worker,
            "mode": self.mode,
            "switching_enabled": self.switching_enabled,
            "modes": {m: list(s) for m, s in self.cfg.modes.items()},
            "mode_vram_mb": {m: self.cfg.mode_vram_mb(m) for m in self.cfg.modes},
            "services": self.service_health(),
            "active_services": [n for n, s in self.last_states.items() if s == "awake"],
            "vram": self._vram_dict(reading),
            "restarts": {n: len(t) for n, t in self.restarts.items()},
        }

    def close(self) -> None:
        self.client.close()
