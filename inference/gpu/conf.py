"""Configuration of a GPU host, read from the environment (every variable is in .env.example and docs/gpu.md).

A GPU host is one GPU and the GPU worker that owns it. Its model servers are *services* named after
what they do (llm, tts, stt, gen3d, style); a *mode* is the set of services that must be resident
on the GPU at once. Memory needs are configuration (`vram_mb` per service): they decide whether a
switch may proceed and whether this host needs switching at all.
"""
from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

SERVICE_NAMES = ("llm", "tts", "stt", "gen3d", "style")
SERVICE_KINDS = ("vllm", "gpt_sovits", "process")
MODE_NAMES = ("chat", "tts", "gen3d", "style")
# Seed 004 section 8.2: one large service resident at a time.
DEFAULT_MODES: dict[str, tuple[str, ...]] = {"chat": ("llm",), "tts": ("tts",), "gen3d": ("gen3d",), "style": ("style",)}
ALL_MODE = "all"  # the mode name shown when switching is off: every service stays resident


@dataclass(frozen=True)
class ServiceConfig:
    """One model server on the GPU.

    kind "vllm": leaves the GPU by sleeping (POST /sleep?level=N) and comes back by waking.
    kind "gpt_sovits" / "process": leaves the GPU by stopping its process, comes back by starting it
    (GPT-SoVITS api_v2 has no unload route; its weights are chosen after start with
    /set_gpt_weights and /set_sovits_weights). Without `command` the server is external: the worker
    checks its health but cannot start or stop it, so it stays resident in every mode.
    """

    name: str
    kind: str
    url: str
    vram_mb: int
    command: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    health_path: str = "/health"
    start_timeout: float = 600.0
    sleep_level: int = 1
    llm_model: str = ""  # vllm: the gateway's model name (LLM_MODELS) used for the warm-up token
    gpt_weights: str = ""
    sovits_weights: str = ""

    @property
    def supervised(self) -> bool:
        return bool(self.command)

    @property
    def can_leave(self) -> bool:
        """Whether this service can give its memory back (sleep or stop)."""
        return self.kind == "vllm" or self.supervised


@dataclass(frozen=True)
class GpuConfig:
    host: str
    gpu_index: int
    services: Mapping[str, ServiceConfig]
    modes: Mapping[str, tuple[str, ...]]
    default_mode: str = "chat"
    switching: str = "auto"  # auto | on | off
    vram_reader: str = "nvml"
    vram_margin_mb: int = 512
    drain_timeout: float = 60.0
    step_timeout: float = 300.0
    lock_ttl: float = 15.0
    lock_wait: float = 120.0
    heartbeat_interval: float = 2.0
    restart_limit: int = 5
    lease_ttl: float = 300.0
    log_dir: Path = Path("var/gpu")
    queues: tuple[str, ...] = ("gpu",)

    @property
    def host_queue(self) -> str:
        """The queue only this host consumes: mode requests must reach the worker that owns the GPU."""
        return host_queue(self.host)

    def mode_services(self, mode: str) -> tuple[str, ...]:
        return self.modes.get(mode, ())

    def mode_vram_mb(self, mode: str) -> int:
        return sum(self.services[s].vram_mb for s in self.mode_services(mode))

    def all_vram_mb(self) -> int:
        return sum(s.vram_mb for s in self.services.values())


def host_queue(host: str) -> str:
    return f"gpu.{host}"


def _fail(name: str, message: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"Environment variable {name}: {message}")


def _number(env: Mapping[str, str], name: str, default: float, minimum: float, maximum: float) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise _fail(name, f"{raw!r} is not a number") from None
    if not minimum <= value <= maximum:
        raise _fail(name, f"{raw!r} must be between {minimum:g} and {maximum:g}")
    return value


def _service(name: str, raw: object) -> ServiceConfig:
    where = f"GPU_SERVICES[{name!r}]"
    if name not in SERVICE_NAMES:
        raise _fail("GPU_SERVICES", f"unknown service {name!r}; use {', '.join(SERVICE_NAMES)}")
    if not isinstance(raw, dict):
        raise _fail("GPU_SERVICES", f"{where} must be an object")
    kind = str(raw.get("kind") or "")
    if kind not in SERVICE_KINDS:
        raise _fail("GPU_SERVICES", f"{where}.kind must be one of {', '.join(SERVICE_KINDS)}")
    url = str(raw.get("url") or "").rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise _fail("GPU_SERVICES", f"{where}.url must be an http(s) URL of the server root")
    vram = raw.get("vram_mb")
    if isinstance(vram, bool) or not isinstance(vram, int) or vram < 0:
        raise _fail("GPU_SERVICES", f"{where}.vram_mb must be a whole number of MiB >= 0")
    command = raw.get("command") or []
    if not isinstance(command, list) or not all(isinstance(c, str) for c in command):
        raise _fail("GPU_SERVICES", f"{where}.command must be a list of strings (argv)")
    env = raw.get("env") or {}
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise _fail("GPU_SERVICES", f"{where}.env must be an object of strings")
    level = raw.get("sleep_level", 1)
    if level not in (1, 2):
        raise _fail("GPU_SERVICES", f"{where}.sleep_level must be 1 or 2")
    return ServiceConfig(
        name=name, kind=kind, url=url, vram_mb=vram, command=tuple(command), env=dict(env),
        # GPT-SoVITS api_v2 has no health route; FastAPI's /docs page answers once it serves.
        health_path=str(raw.get("health_path") or ("/docs" if kind == "gpt_sovits" else "/health")),
        start_timeout=float(raw.get("start_timeout") or 600.0),
        sleep_level=int(level), llm_model=str(raw.get("llm_model") or ""),
        gpt_weights=str(raw.get("gpt_weights") or ""), sovits_weights=str(raw.get("sovits_weights") or ""),
    )


def _modes(raw: object, services: Mapping[str, ServiceConfig]) -> dict[str, tuple[str, ...]]:
    if raw is None:
        return {m: tuple(s for s in names if s in services) for m, names in DEFAULT_MODES.items()
                if any(s in services for s in names)}
    if not isinstance(raw, dict):
        raise _fail("GPU_MODES", "must be a JSON object of mode to a list of service names")
    modes: dict[str, tuple[str, ...]] = {}
    for mode, names in raw.items():
        if mode not in MODE_NAMES:
            raise _fail("GPU_MODES", f"unknown mode {mode!r}; use {', '.join(MODE_NAMES)}")
        if not isinstance(names, list) or not names or not all(n in services for n in names):
            raise _fail("GPU_MODES", f"mode {mode!r} must list configured services (GPU_SERVICES)")
        modes[mode] = tuple(names)
    return modes


def load_config(env: Mapping[str, str] | None = None) -> GpuConfig:
    """Parse the GPU host configuration from `env` (default: the process environment)."""
    env = os.environ if env is None else env
    try:
        raw_services = json.loads(env.get("GPU_SERVICES") or "{}")
        raw_modes = json.loads(env["GPU_MODES"]) if (env.get("GPU_MODES") or "").strip() else None
    except json.JSONDecodeError as exc:
        raise _fail("GPU_SERVICES/GPU_MODES", f"invalid JSON ({exc.msg})") from None
    if not isinstance(raw_services, dict):
        raise _fail("GPU_SERVICES", "must be a JSON object of service name to its settings")
    services = {name: _service(name, raw) for name, raw in raw_services.items()}
    modes = _modes(raw_modes, services)
    default_mode = (env.get("GPU_DEFAULT_MODE") or "chat").strip()
    if modes and default_mode not in modes:
        raise _fail("GPU_DEFAULT_MODE", f"{default_mode!r} is not a configured mode ({', '.join(modes)})")
    switching = (env.get("GPU_SWITCHING") or "auto").strip()
    if switching not in ("auto", "on", "off"):
        raise _fail("GPU_SWITCHING", "must be auto, on or off")
    host = (env.get("GPU_HOST") or socket.gethostname()).strip()
    if not host.replace("-", "").replace("_", "").replace(".", "").isalnum() or len(host) > 64:
        raise _fail("GPU_HOST", "use letters, digits, '-', '_' and '.' (at most 64)")
    queues = tuple(q.strip() for q in (env.get("GPU_QUEUES") if env.get("GPU_QUEUES") is not None else "gpu").split(",") if q.strip())
    return GpuConfig(
        host=host,
        gpu_index=int(_number(env, "GPU_INDEX", 0, 0, 63)),
        services=services,
        modes=modes,
        default_mode=default_mode,
        switching=switching,
        vram_reader=(env.get("GPU_VRAM_READER") or "nvml").strip(),
        vram_margin_mb=int(_number(env, "GPU_VRAM_MARGIN_MB", 512, 0, 1 << 20)),
        drain_timeout=_number(env, "GPU_DRAIN_TIMEOUT", 60, 0, 3600),
        step_timeout=_number(env, "GPU_STEP_TIMEOUT", 300, 1, 7200),
        lock_ttl=_number(env, "GPU_LOCK_TTL", 15, 1, 600),
        lock_wait=_number(env, "GPU_LOCK_WAIT", 120, 0, 86400),
        heartbeat_interval=_number(env, "GPU_HEARTBEAT_INTERVAL", 2, 0.1, 60),
        restart_limit=int(_number(env, "GPU_RESTART_LIMIT", 5, 0, 1000)),
        lease_ttl=_number(env, "GPU_LEASE_TTL", 300, 1, 86400),
        log_dir=Path(env.get("GPU_LOG_DIR") or _default_log_dir()),
        queues=queues,
    )


def _default_log_dir() -> str:
    from django.conf import settings

    return str(Path(settings.VAR_DIR) / "gpu")


def request_timeout() -> float:
    """Seconds a caller waits for a mode (queue + switch) before a clear 503."""
    return _number(os.environ, "GPU_REQUEST_TIMEOUT", 120, 0.1, 3600)
