"""How much GPU memory is used: a small interface, NVML behind it in production.

`GPU_VRAM_READER=nvml` (default) reads the real GPU through `nvidia-ml-py` (module `pynvml`);
any other value is the dotted path of a class with the same `read(index)` method (the tests use a
reader of their fake GPU's ledger). Failures raise VramUnavailable, never a pynvml type.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

from django.utils.module_loading import import_string

MIB = 1024 * 1024


class VramUnavailable(RuntimeError):
    """The GPU's memory could not be read (no driver, no such GPU, NVML error)."""


@dataclass(frozen=True)
class VramReading:
    used_mb: int
    total_mb: int
    processes: dict[int, int] = field(default_factory=dict)  # pid -> MiB, processes holding memory

    @property
    def free_mb(self) -> int:
        return max(0, self.total_mb - self.used_mb)

    @property
    def usage_percent(self) -> float:
        return round(100.0 * self.used_mb / self.total_mb, 1) if self.total_mb else 0.0


class VramReader(Protocol):
    def read(self, index: int) -> VramReading: ...


class NvmlReader:
    """NVML through nvidia-ml-py. Initialised once per process, lazily (import costs nothing)."""

    _lock = threading.Lock()
    _initialised = False

    def _init(self):
        try:
            import pynvml
        except ImportError as exc:  # the package is in requirements.txt; a broken install says so
            raise VramUnavailable("nvidia-ml-py is not installed") from exc
        with self._lock:
            if not NvmlReader._initialised:
                try:
                    pynvml.nvmlInit()
                except pynvml.NVMLError as exc:
                    raise VramUnavailable(f"NVML could not start: {exc}") from exc
                NvmlReader._initialised = True
        return pynvml

    def read(self, index: int) -> VramReading:
        pynvml = self._init()
        try:
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            processes: dict[int, int] = {}
            for proc in pynvml.nvmlDeviceGetComputeRunningProcesses(handle):
                used = getattr(proc, "usedGpuMemory", None)
                # NVML reports None (NVML_VALUE_NOT_AVAILABLE) for processes in other containers.
                processes[int(proc.pid)] = int(used // MIB) if isinstance(used, int) else 0
        except pynvml.NVMLError as exc:
            raise VramUnavailable(f"NVML could not read GPU {index}: {exc}") from exc
        return VramReading(used_mb=int(memory.used // MIB), total_mb=int(memory.total // MIB), processes=processes)


def reader_from(path: str) -> VramReader:
    if path in ("", "nvml"):
        return NvmlReader()
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise VramUnavailable(f"GPU_VRAM_READER {path!r} cannot be imported") from exc
    return cls()
