"""Speech engine health for /api/health: each engine "healthy" or "unhealthy".

A check raises (the component shows "error") when any engine is unhealthy. Details name
engines, never URLs or exception texts (the endpoint is public).
"""
from __future__ import annotations

import asyncio
import logging

from asgiref.sync import async_to_sync

from . import config

logger = logging.getLogger(__name__)
TIMEOUT_S = 3.0


class SpeechUnhealthy(RuntimeError):
    pass


def _probe(name: str, engine) -> str:
    async def run() -> str:
        return await asyncio.wait_for(engine.health(), timeout=TIMEOUT_S)

    try:
        async_to_sync(run)()
    except Exception as exc:  # every failure is a state to report
        logger.warning("speech engine %s unhealthy: %s: %s", name, type(exc).__name__, exc)
        return "unhealthy"
    return "healthy"


def _report(states: dict[str, str]) -> str:
    text = ", ".join(f"{name}: {state}" for name, state in states.items())
    if "unhealthy" in states.values():
        raise SpeechUnhealthy(text)
    return text


def stt_status() -> str:
    engine = config.stt_engine()
    return _report({engine.name: _probe(engine.name, engine)})


def tts_status() -> str:
    return _report({name: _probe(name, engine) for name, engine in config.tts_engines_in_use().items()})
