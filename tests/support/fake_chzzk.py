"""A fake Chzzk open API for tests and benchmarks: the REST session/subscribe endpoints and a
Socket.IO server speaking the protocol Chzzk speaks (Engine.IO v3 / Socket.IO 2.x, as served by
python-socketio 4.x), sending SYSTEM / CHAT / DONATION / SUBSCRIPTION events shaped like Chzzk's.

Our real `live.intake.chzzk` client is what the tests exercise against it.
"""
from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import socketio
from aiohttp import web
from socketio.asyncio_manager import AsyncManager


class _Py311Manager(AsyncManager):
    """python-socketio 4.6.1 passes bare coroutines to asyncio.wait, which Python 3.11 refuses."""

    async def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, **kwargs):
        if namespace not in self.rooms or room not in self.rooms[namespace]:
            return
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        tasks = [
            asyncio.ensure_future(self.server._emit_internal(
                sid, event, data, namespace, self._generate_ack_id(sid, namespace, callback) if callback else None))
            for sid in self.get_participants(namespace, room) if sid not in skip
        ]
        if tasks:
            await asyncio.wait(tasks)


@dataclass
class FakeChzzk:
    client_id: str = "test-client"
    client_secret: str = "test-secret"
    access_token: str = "streamer-token"
    channel_id: str = "channel-streamer"
    json_strings: bool = True  # Chzzk sends some payloads as JSON text
    session_urls_issued: int = 0
    subscriptions: list[tuple[str, str]] = field(default_factory=list)
    connections: int = 0
    refuse_auth: bool = False
    channel_name: str = "Streamer Channel"
    auth_codes: set[str] = field(default_factory=set)  # codes the consent page "issued" (issue_code)
    refresh_tokens: set[str] = field(default_factory=set)
    token_grants: list[str] = field(default_factory=list)  # grantType of every token request
    _tokens: set[str] = field(default_factory=set)
    _sessions: dict[str, str] = field(default_factory=dict)  # sid -> session key
    _port: int = 0

    def __post_init__(self) -> None:
        self.sio = socketio.AsyncServer(async_mode="aiohttp", client_manager=_Py311Manager(), logger=False,
                                        engineio_logger=False)
        self.app = web.Application()
        self.sio.attach(self.app)
        self.app.router.add_get("/open/v1/sessions/auth/client", self._auth_client)
        self.app.router.add_get("/open/v1/sessions/auth", self._auth_user)
        self.app.router.add_post("/open/v1/sessions/events/subscribe/{kind}", self._subscribe)
        self.app.router.add_post("/auth/v1/token", self._token)
        self.app.router.add_get("/open/v1/users/me", self._me)
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self._runner: web.AppRunner | None = None
        self.subscribed = asyncio.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> FakeChzzk:
        self._runner = web.AppRunner(self.app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = site._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeChzzk:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # REST --------------------------------------------------------------------------------------
    def _issue_url(self) -> web.Response:
        token = secrets.token_urlsafe(12)
        self._tokens.add(token)
        self.session_urls_issued += 1
        return web.json_response({"code": 200, "message": None, "content": {"url": f"{self.base_url}?auth={token}"}})

    async def _auth_client(self, request: web.Request) -> web.Response:
        if self.refuse_auth or request.headers.get("Client-Id") != self.client_id or \
                request.headers.get("Client-Secret") != self.client_secret:
            return web.json_response({"code": 401, "message": "INVALID_CLIENT"}, status=401)
        return self._issue_url()

    async def _auth_user(self, request: web.Request) -> web.Response:
        if self.refuse_auth or request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return web.json_response({"code": 401, "message": "INVALID_TOKEN"}, status=401)
        return self._issue_url()

    async def _subscribe(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        key = request.query.get("sessionKey", "")
        sid = next((s for s, k in self._sessions.items() if k == key), None)
        if kind not in ("chat", "donation", "subscription") or sid is None:
            return web.json_response({"code": 400, "message": "INVALID_REQUEST"}, status=400)
        self.subscriptions.append((kind, key))
        await self._system(sid, "subscribed", {"eventType": kind.upper(), "channelId": self.channel_id})
        if {k for k, s in self.subscriptions if s == key} >= {"chat"}:
            self.subscribed.set()
        return web.json_response({"code": 200, "message": None})

    # OAuth (Chzzk's account-interlock flow) ---------------------------------------------------------
    def issue_code(self) -> str:
        """What Chzzk's consent page hands our callback after the streamer agrees."""
        code = secrets.token_urlsafe(12)
        self.auth_codes.add(code)
        return code

    def _new_tokens(self) -> web.Response:
        self.access_token = secrets.token_urlsafe(16)
        refresh = secrets.token_urlsafe(16)
        self.refresh_tokens.add(refresh)
        return web.json_response({"code": 200, "message": None, "content": {
            "accessToken": self.access_token, "refreshToken": refresh, "tokenType": "Bearer", "expiresIn": "86400"}})

    async def _token(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"code": 400, "message": "INVALID_REQUEST"}, status=400)
        grant = str(body.get("grantType", ""))
        self.token_grants.append(grant)
        if body.get("clientId") != self.client_id or body.get("clientSecret") != self.client_secret:
            return web.json_response({"code": 401, "message": "INVALID_CLIENT"}, status=401)
        if grant == "authorization_code" and body.get("code") in self.auth_codes and body.get("state"):
            self.auth_codes.discard(body["code"])  # a code is good once
            return self._new_tokens()
        if grant == "refresh_token" and body.get("refreshToken") in self.refresh_tokens:
            self.refresh_tokens.discard(body["refreshToken"])  # Chzzk rotates refresh tokens
            return self._new_tokens()
        return web.json_response({"code": 401, "message": "INVALID_TOKEN"}, status=401)

    async def _me(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return web.json_response({"code": 401, "message": "INVALID_TOKEN"}, status=401)
        return web.json_response({"code": 200, "message": None, "content": {
            "channelId": self.channel_id, "channelName": self.channel_name}})

    # Socket.IO ---------------------------------------------------------------------------------
    async def _on_connect(self, sid: str, environ: dict) -> bool:
        token = (parse_qs(environ.get("QUERY_STRING", "")).get("auth") or [""])[0]
        if token not in self._tokens:
            return False
        self._tokens.discard(token)  # a session URL is good for one connection
        self.connections += 1
        key = secrets.token_urlsafe(16)
        self._sessions[sid] = key
        # Chzzk announces the session key right after the handshake.
        self.sio.start_background_task(self._system_later, sid, "connected", {"sessionKey": key})
        return True

    async def _on_disconnect(self, sid: str) -> None:
        self._sessions.pop(sid, None)

    async def _system_later(self, sid: str, kind: str, data: dict) -> None:
        await asyncio.sleep(0.01)
        await self._system(sid, kind, data)

    def _payload(self, data: dict) -> Any:
        return json.dumps(data, ensure_ascii=False) if self.json_strings else data

    async def _system(self, sid: str, kind: str, data: dict) -> None:
        await self.sio.emit("SYSTEM", self._payload({"type": kind, "data": data}), room=sid)

    # Test controls -----------------------------------------------------------------------------
    async def send_chat(self, sender: str, nickname: str, content: str, *, emojis: dict | None = None,
                        role: str = "common_user", message_time: int = 0) -> None:
        await self.sio.emit("CHAT", self._payload({
            "channelId": self.channel_id, "senderChannelId": sender,
            "profile": {"nickname": nickname, "badges": [], "verifiedMark": False},
            "userRoleCode": role, "content": content, "emojis": emojis or {}, "messageTime": message_time,
        }))

    async def send_donation(self, donator: str, nickname: str, amount: int, text: str) -> None:
        await self.sio.emit("DONATION", self._payload({
            "donationType": "CHAT", "channelId": self.channel_id, "donatorChannelId": donator,
            "donatorNickname": nickname, "payAmount": str(amount), "donationText": text, "emojis": {},
        }))

    async def send_subscription(self, subscriber: str, nickname: str, tier: int, months: int) -> None:
        await self.sio.emit("SUBSCRIPTION", self._payload({
            "channelId": self.channel_id, "subscriberChannelId": subscriber, "subscriberNickname": nickname,
            "tierNo": tier, "tierName": f"Tier {tier}", "month": months,
        }))

    async def revoke(self) -> None:
        for sid in list(self._sessions):
            await self._system(sid, "revoked", {"eventType": "CHAT", "channelId": self.channel_id})

    async def drop_all(self) -> None:
        """The network drops: every socket is closed by the server."""
        self.subscribed.clear()
        for sid in list(self._sessions):
            await self.sio.disconnect(sid)


class ThreadedFakeChzzk:
    """A FakeChzzk on its own event loop in a thread, for synchronous callers (the OAuth views)."""

    def __init__(self, **fields: Any) -> None:
        import threading

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake: FakeChzzk = self.call(FakeChzzk(**fields).start())

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(15)

    def close(self) -> None:
        self.call(self.fake.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
