"""The Celery command line of a GPU worker (shared by `manage.py gpu_worker` and docs/tests)."""
from __future__ import annotations

from .conf import load_config


def worker_argv(*, loglevel: str = "INFO") -> list[str]:
    cfg = load_config()  # a bad GPU_* value stops here with a message naming the variable
    queues = [cfg.host_queue, *[q for q in cfg.queues if q != cfg.host_queue]]
    return [
        "worker", "-Q", ",".join(queues),
        # One GPU, one task at a time: the solo pool runs tasks in this process, next to the
        # supervisor thread, so a switch and a generation job never overlap.
        "-P", "solo", "-c", "1", "--prefetch-multiplier", "1",
        "-n", f"gpu@{cfg.host}", "-l", loglevel, "--without-gossip", "--without-mingle",
    ]
