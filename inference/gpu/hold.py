"""Holding a GPU mode around a piece of work, from async code (chat turns, TTS, STT).

A model or engine that runs on a switching GPU host names its mode in configuration (an LLM's
`gpu_mode` in LLM_MODELS, SPEECH_TTS_GPU_MODE, SPEECH_STT_GPU_MODE). The work then waits its turn
for that mode (client.request_mode: FIFO, 503 past the timeout) and holds it until it ends, so no
switch takes the GPU away mid-reply. With no mode named, the work runs as it always did
(embedded engines, a server on a GPU of its own).
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from .client import ModeGrant, request_mode, use_mode


@asynccontextmanager
async def hold_mode(mode: str) -> AsyncIterator[ModeGrant | None]:
    if not mode:
        yield None
        return
    # The request blocks (Redis) while the host switches: a thread, shielded so that a caller
    # cancelled meanwhile still releases the grant it would have been given.
    pending = asyncio.ensure_future(asyncio.to_thread(request_mode, mode))
    try:
        grant = await asyncio.shield(pending)
    except asyncio.CancelledError:
        pending.add_done_callback(_release_when_granted)
        raise
    try:
        yield grant
    finally:
        await asyncio.shield(asyncio.to_thread(grant.release))


def _release_when_granted(done: asyncio.Future) -> None:
    if not done.cancelled() and done.exception() is None:
        done.result().release()


@contextmanager
def hold_mode_sync(mode: str) -> Iterator[ModeGrant | None]:
    """The same for synchronous work (the wizard's and the summarizer's one-shot completions)."""
    if not mode:
        yield None
        return
    with use_mode(mode) as grant:
        yield grant
