"""One AsyncOpenAI client per event loop.

An httpx connection pool belongs to the loop it was opened on. Engines are shared per process and
driven from several loops (Daphne's, a voice worker's, the one async_to_sync makes for a sync
caller), so each loop gets its own client, dropped when the loop goes away.
"""
from __future__ import annotations

import asyncio
import weakref


class PerLoopOpenAi:
    def __init__(self, *, base_url: str, api_key: str, timeout: float) -> None:
        self.base_url = base_url
        self.api_key = api_key or "none"
        self.timeout = timeout
        self._clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def get(self):
        from openai import AsyncOpenAI

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = AsyncOpenAI(base_url=self.base_url, api_key=self.api_key, timeout=self.timeout, max_retries=0)
            self._clients[loop] = client
        return client
