"""The practice partner: an `avatar_peer --mirror` process that joins a room as a guest and sends
back every frame it receives, so a person can try a call alone.

It runs as a child process, never in the request thread or the event loop: aiortc does real
network and CPU work. A supervisor thread waits for it, kills it at HARD_LIMIT_S (the command also
stops itself at its --duration), and frees the room's "practice running" cache key when it ends.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Sequence

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext

logger = logging.getLogger(__name__)

DURATION_S = 600  # the mirror leaves after 10 minutes...
HARD_LIMIT_S = DURATION_S + 30  # ...and is killed if it has not


def command_argv(*, base_url: str, invite_token: str) -> list[str]:
    manage = os.path.join(settings.BASE_DIR, "manage.py")
    invite_url = f"{base_url.rstrip('/')}/rooms/invite/{invite_token}/"
    return [
        sys.executable, manage, "avatar_peer", invite_url,
        # The name the person sees, in the language of the request that started it.
        "--name", gettext("Practice partner"), "--mirror", "--leave-when-alone",
        "--duration", str(DURATION_S), "--quiet",
    ]  # fmt: skip


def _supervise(proc: subprocess.Popen, lock_key: str, room_code: str, extra_keys: Sequence[str] = ()) -> None:
    try:
        proc.wait(timeout=HARD_LIMIT_S)
    except subprocess.TimeoutExpired:
        logger.warning("practice partner for room %s ran past its limit; killing it", room_code)
        proc.kill()
        proc.wait()
    finally:
        cache.delete_many([lock_key, *extra_keys])


def spawn(
    *, room_code: str, base_url: str, invite_token: str, lock_key: str, extra_keys: Sequence[str] = ()
) -> subprocess.Popen:
    """Start the mirror peer. `base_url` is how it reaches this server (PRACTICE_PEER_URL, else
    the validated host the request came to). `lock_key` and `extra_keys` (the starter's and the
    deployment's slots) are freed when the process ends."""
    argv = command_argv(base_url=base_url, invite_token=invite_token)
    # The invite token is a one-time secret; pass it in argv of our own child only (not logged).
    proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C aimed at the server's terminal is not the peer's business
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    cache.set(lock_key, f"pid:{proc.pid}", timeout=HARD_LIMIT_S + 60)
    threading.Thread(
        target=_supervise, args=(proc, lock_key, room_code, tuple(extra_keys)), daemon=True, name=f"practice-{room_code}"
    ).start()
    return proc
