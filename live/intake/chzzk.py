"""Chzzk (Naver) open-API chat intake: REST session URL + Socket.IO (client protocol 2.x).

Chzzk accepts only Socket.IO client protocol 1.0.0-2.0.3, i.e. python-socketio 4.x with
python-engineio 3.x (5.x is refused with HTTP 400). We connect with the websocket transport and
do our own reconnection: a socket URL is short-lived, so every reconnect asks for a fresh one.
"""
from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any

import httpx
import socketio

from .base import Intake, OnEvent, OnState
from .chzzk_events import PARSERS, decode_payload

log = logging.getLogger(__name__)

SUBSCRIBE_KINDS = ("chat", "donation", "subscription")


class ChzzkError(Exception):
    """A Chzzk REST call failed; `retryable` says whether backing off can help."""

    def __init__(self, message: str, *, status: int = 0, retryable: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


@dataclass(frozen=True)
class ChzzkCredentials:
    """Either a streamer's access token (user session, at most 3 per user) or the app's client pair
    (client session, at most 10)."""

    client_id: str
    client_secret: str
    access_token: str = ""

    def headers(self) -> dict[str, str]:
        if self.access_token:
            return {"Authorization": f"Bearer {self.access_token}"}
        return {"Client-Id": self.client_id, "Client-Secret": self.client_secret}


class ChzzkApi:
    """The few REST calls the intake needs. `base_url` points at the open API (a fake one in tests)."""

    def __init__(self, base_url: str, credentials: ChzzkCredentials, *, timeout: float = 10.0) -> None:
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout)
        self._creds = credentials

    async def close(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._http.request(method, path, headers=self._creds.headers(), **kwargs)
        except httpx.HTTPError as exc:
            raise ChzzkError(f"Chzzk is unreachable: {exc.__class__.__name__}") from exc
        if response.status_code in (401, 403):
            raise ChzzkError("Chzzk refused the credentials", status=response.status_code, retryable=False)
        if response.status_code >= 400:
            raise ChzzkError(f"Chzzk answered HTTP {response.status_code}", status=response.status_code)
        try:
            body = response.json()
        except ValueError as exc:
            raise ChzzkError("Chzzk answered something that is not JSON") from exc
        return body if isinstance(body, dict) else {}

    async def session_url(self) -> str:
        path = "/open/v1/sessions/auth" if self._creds.access_token else "/open/v1/sessions/auth/client"
        body = await self._call("GET", path)
        content = body.get("content") if isinstance(body.get("content"), dict) else {}
        url = content.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ChzzkError("Chzzk gave no session URL")
        return url

    async def subscribe(self, kind: str, session_key: str) -> None:
        await self._call("POST", f"/open/v1/sessions/events/subscribe/{kind}", params={"sessionKey": session_key})


class ChzzkIntake(Intake):
    platform = "chzzk"

    def __init__(
        self,
        api: ChzzkApi,
        *,
        kinds: tuple[str, ...] = SUBSCRIBE_KINDS,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        connect_timeout: float = 15.0,
    ) -> None:
        self.api = api
        self.kinds = kinds
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.connect_timeout = connect_timeout
        self._stopping = asyncio.Event()
        self._client: socketio.AsyncClient | None = None
        self.reconnects = 0

    async def stop(self) -> None:
        self._stopping.set()
        client = self._client
        if client is not None:
            await client.disconnect()

    async def run(self, on_event: OnEvent, on_state: OnState) -> None:
        attempt = 0
        try:
            while not self._stopping.is_set():
                await on_state("connecting" if attempt == 0 else "reconnecting", f"attempt {attempt + 1}")
                try:
                    outcome = await self._one_connection(on_event, on_state)
                except ChzzkError as exc:
                    if not exc.retryable:
                        await on_state("failed", str(exc))
                        return
                    outcome = f"error: {exc}"
                except (TimeoutError, socketio.exceptions.ConnectionError, OSError) as exc:
                    outcome = f"error: {exc.__class__.__name__}"
                if outcome == "revoked":
                    await on_state("revoked", "Chzzk revoked the session")
                    return
                if self._stopping.is_set():
                    break
                if outcome == "subscribed-then-dropped":
                    attempt = 0  # it worked for a while: start the backoff again from the bottom
                attempt += 1
                self.reconnects += 1
                delay = min(self.backoff_max, self.backoff_base * 2 ** min(attempt - 1, 10))
                delay *= 0.5 + random.random() / 2  # jitter, so many sessions do not reconnect in lockstep
                await on_state("reconnecting", f"{outcome}; retrying in {delay:.1f} s")
                try:
                    await asyncio.wait_for(self._stopping.wait(), delay)
                except TimeoutError:
                    pass
        finally:
            await on_state("stopped", "")

    async def _one_connection(self, on_event: OnEvent, on_state: OnState) -> str:
        """Connect once with a fresh URL; returns why the connection ended."""
        url = await self.api.session_url()
        client = socketio.AsyncClient(reconnection=False, logger=False, engineio_logger=False)
        self._client = client
        ended = asyncio.Event()
        outcome = {"why": "dropped"}

        async def on_system(raw: Any) -> None:
            message = decode_payload(raw)
            kind = message.get("type")
            data = message.get("data") if isinstance(message.get("data"), dict) else {}
            if kind == "connected":
                key = data.get("sessionKey")
                if not isinstance(key, str) or not key:
                    outcome["why"] = "error: no session key"
                    ended.set()
                    return
                await on_state("connected", "")
                for name in self.kinds:
                    await self.api.subscribe(name, key)
            elif kind == "subscribed":
                outcome["why"] = "subscribed-then-dropped"
                await on_state("subscribed", str(data.get("eventType", "")))
            elif kind == "revoked":
                outcome["why"] = "revoked"
                ended.set()

        def relay(event_name: str):
            parse = PARSERS[event_name]

            async def handler(raw: Any) -> None:
                event = parse(raw)
                if event is not None:
                    await on_event(event)

            return handler

        client.on("SYSTEM", on_system)
        for name in PARSERS:
            client.on(name, relay(name))
        client.on("disconnect", ended.set)
        try:
            await asyncio.wait_for(client.connect(url, transports=["websocket"]), self.connect_timeout)
            stop_wait = asyncio.ensure_future(self._stopping.wait())
            end_wait = asyncio.ensure_future(ended.wait())
            await asyncio.wait({stop_wait, end_wait}, return_when=asyncio.FIRST_COMPLETED)
            stop_wait.cancel()
            end_wait.cancel()
        finally:
            self._client = None
            if client.connected:
                await client.disconnect()
        return "stopped" if self._stopping.is_set() else outcome["why"]
