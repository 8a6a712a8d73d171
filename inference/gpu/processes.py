"""Model-server processes the GPU worker starts, stops and restarts.

Each process runs in its own session (so a worker killed with SIGKILL does not take its servers
with it: the next worker adopts them), writes stdout and stderr to `<log_dir>/<name>.log`, and
records its pid in `<log_dir>/<name>.pid` so a later worker can find and stop it.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)


def pid_alive(pid: int) -> bool:
    """True if the process exists and is not a zombie (a dead child nobody reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class ManagedProcess:
    def __init__(self, name: str, command: Sequence[str], env: Mapping[str, str], log_dir: Path) -> None:
        self.name = name
        self.command = list(command)
        self.env = dict(env)
        self.log_dir = Path(log_dir)
        self._child: subprocess.Popen | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    @property
    def pid_path(self) -> Path:
        return self.log_dir / f"{self.name}.pid"

    def pid(self) -> int | None:
        if self._child is not None:
            return self._child.pid
        try:
            return int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return None

    def alive(self) -> bool:
        if self._child is not None:
            return self._child.poll() is None
        pid = self.pid()
        return pid is not None and pid_alive(pid)

    def start(self) -> int:
        """Start the process (the caller has checked it is not running). Returns its pid."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {self.name}\n".encode())
            log.flush()
            self._child = subprocess.Popen(
                self.command, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        self.pid_path.write_text(str(self._child.pid))
        self.starts += 1
        logger.info("gpu: started %s (pid %d), log %s", self.name, self._child.pid, self.log_path)
        return self._child.pid

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the process group, SIGKILL it after `timeout`. Safe when not running."""
        pid = self.pid()
        if pid is not None and pid_alive(pid):
            self._signal(pid, signal.SIGTERM)
            end = time.monotonic() + timeout
            while time.monotonic() < end and self._still_running(pid):
                time.sleep(0.01)
            if self._still_running(pid):
                logger.warning("gpu: %s (pid %d) ignored SIGTERM for %.0fs; killing it", self.name, pid, timeout)
                self._signal(pid, signal.SIGKILL)
                while self._still_running(pid):
                    time.sleep(0.01)
        self._child = None
        self.pid_path.unlink(missing_ok=True)

    def _still_running(self, pid: int) -> bool:
        if self._child is not None and self._child.pid == pid:
            return self._child.poll() is None
        return pid_alive(pid)

    @staticmethod
    def _signal(pid: int, sig: int) -> None:
        try:
            os.killpg(pid, sig)  # the server and anything it spawned (session leader = pid)
        except ProcessLookupError:
            pass
        except PermissionError:
            os.kill(pid, sig)

    def forget_if_dead(self) -> bool:
        """Reap a dead child and drop its pid file. Returns True if it had been running and died."""
        if self.pid() is None or self.alive():
            return False
        if self._child is not None:
            self._child.poll()
            self._child = None
        self.pid_path.unlink(missing_ok=True)
        return True
