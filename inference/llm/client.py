"""The `openai` clients: one per endpoint (and, for async clients, per event loop), built here only.

Client-side retries are off (max_retries=0): retries are ours (retry.py: counted, logged,
translated, and aware of a stream that already showed text).
"""
from __future__ import annotations

import asyncio
import logging
import threading
import weakref

import httpx2
import openai

from .config import ModelConfig

# One INFO line per HTTP request from the client library is noise; our retries log themselves.
logging.getLogger("httpx2").setLevel(logging.WARNING)

_Key = tuple[str, str, float]


def _key(cfg: ModelConfig) -> _Key:
    return (cfg.base_url, cfg.api_key, cfg.timeout)


def _timeout(cfg: ModelConfig) -> httpx2.Timeout:
    # read: the longest pause between two streamed chunks (or before a non-streamed answer).
    return httpx2.Timeout(cfg.timeout, connect=min(10.0, cfg.timeout))


_sync_clients: dict[_Key, openai.OpenAI] = {}
_sync_lock = threading.Lock()
# Async clients hold connection pools bound to one event loop, so they are cached per loop.
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[_Key, openai.AsyncOpenAI]] = weakref.WeakKeyDictionary()


def sync_client(cfg: ModelConfig) -> openai.OpenAI:
    key = _key(cfg)
    with _sync_lock:
        client = _sync_clients.get(key)
        if client is None:
            client = openai.OpenAI(base_url=cfg.base_url, api_key=cfg.api_key, timeout=_timeout(cfg), max_retries=0)
            _sync_clients[key] = client
        return client


def async_client(cfg: ModelConfig) -> openai.AsyncOpenAI:
    per_loop = _async_clients.setdefault(asyncio.get_running_loop(), {})
    key = _key(cfg)
    client = per_loop.get(key)
    if client is None:
        client = openai.AsyncOpenAI(base_url=cfg.base_url, api_key=cfg.api_key, timeout=_timeout(cfg), max_retries=0)
        per_loop[key] = client
    return client


def ping(cfg: ModelConfig, timeout: float = 2.0) -> str:
    """Health check: GET {base_url}/models. Returns a short detail or raises."""
    client = openai.OpenAI(base_url=cfg.base_url, api_key=cfg.api_key, timeout=timeout, max_retries=0)
    try:
        page = client.models.list()
        ids = [m.id for m in page.data][:5]
    finally:
        client.close()
    return f"{cfg.name}: {', '.join(ids) or 'no models listed'}"
