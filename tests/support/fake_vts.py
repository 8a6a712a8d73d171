"""A fake VTube Studio (public API 1.0 over WebSocket) for tests and benchmarks.

It checks what the real one enforces: the envelope, authentication before anything else, custom
parameters created before being injected, and injections re-sent in time: a controlled parameter
not re-sent within `lost_after_s` is flagged lost (VTube Studio hands control back then).
"""
from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import websockets

DEFAULT_INPUTS = {"FaceAngleX", "FaceAngleY", "FaceAngleZ", "MouthOpen", "EyeRightX", "EyeLeftX", "MouthSmile"}
HOTKEYS = [{"name": "Smile", "type": "ToggleExpression", "hotkeyID": "hk-smile", "file": "smile.exp3.json"},
           {"name": "Cry", "type": "ToggleExpression", "hotkeyID": "hk-cry", "file": "cry.exp3.json"}]


@dataclass
class FakeVts:
    lost_after_s: float = 1.0
    token_requests: int = 0
    auth_ok: int = 0
    auth_refused: int = 0
    created: set[str] = field(default_factory=set)
    injections: int = 0
    hotkeys_triggered: list[str] = field(default_factory=list)
    expressions: list[tuple[str, bool]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lost: set[str] = field(default_factory=set)
    max_gap_s: dict[str, float] = field(default_factory=dict)
    last_values: dict[str, float] = field(default_factory=dict)
    _last_seen: dict[str, float] = field(default_factory=dict)
    _tokens: set[str] = field(default_factory=set)
    _server: Any = None
    port: int = 0

    async def start(self) -> FakeVts:
        self._server = await websockets.serve(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def close(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def restart(self) -> None:
        """VTube Studio quits and comes back on the same port (tokens survive, like the real one)."""
        port = self.port
        await self.close()
        self._last_seen.clear()
        await asyncio.sleep(0.3)
        self._server = await websockets.serve(self._serve, "127.0.0.1", port)

    def revoke_tokens(self) -> None:
        self._tokens.clear()

    def check_gaps(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for name, seen in self._last_seen.items():
            gap = now - seen
            self.max_gap_s[name] = max(self.max_gap_s.get(name, 0.0), gap)
            if gap > self.lost_after_s:
                self.lost.add(name)

    async def _serve(self, ws) -> None:
        authed = False
        async for raw in ws:
            try:
                msg = json.loads(raw)
            except ValueError:
                self.errors.append("not json")
                continue
            rid, kind, data = msg.get("requestID"), msg.get("messageType"), msg.get("data") or {}
            if msg.get("apiName") != "VTubeStudioPublicAPI" or msg.get("apiVersion") != "1.0":
                await self._error(ws, rid, 1, "apiName/apiVersion invalid")
                continue
            if kind == "AuthenticationTokenRequest":
                self.token_requests += 1
                token = secrets.token_hex(16)
                self._tokens.add(token)
                await self._reply(ws, rid, "AuthenticationTokenResponse", {"authenticationToken": token})
            elif kind == "AuthenticationRequest":
                authed = data.get("authenticationToken") in self._tokens and bool(data.get("pluginName"))
                self.auth_ok += authed
                self.auth_refused += not authed
                await self._reply(ws, rid, "AuthenticationResponse",
                                  {"authenticated": authed, "reason": "ok" if authed else "Token invalid"})
            elif not authed:
                await self._error(ws, rid, 8, "Request requires authentication")
            elif kind == "ParameterCreationRequest":
                name = str(data.get("parameterName", ""))
                if not (4 <= len(name) <= 32) or not name.isalnum():
                    await self._error(ws, rid, 352, "Invalid parameter name")
                    continue
                self.created.add(name)
                await self._reply(ws, rid, "ParameterCreationResponse", {"parameterName": name})
            elif kind == "InjectParameterDataRequest":
                await self._inject(ws, rid, data)
            elif kind == "HotkeysInCurrentModelRequest":
                await self._reply(ws, rid, "HotkeysInCurrentModelResponse", {
                    "modelLoaded": True, "modelName": "Test", "modelID": "m1", "availableHotkeys": HOTKEYS})
            elif kind == "HotkeyTriggerRequest":
                hotkey = data.get("hotkeyID")
                if hotkey not in {h["hotkeyID"] for h in HOTKEYS} | {h["name"] for h in HOTKEYS}:
                    await self._error(ws, rid, 202, "Hotkey not found")
                    continue
                self.hotkeys_triggered.append(hotkey)
                await self._reply(ws, rid, "HotkeyTriggerResponse", {"hotkeyID": hotkey})
            elif kind == "ExpressionActivationRequest":
                self.expressions.append((str(data.get("expressionFile")), bool(data.get("active"))))
                await self._reply(ws, rid, "ExpressionActivationResponse", {})
            else:
                await self._error(ws, rid, 5, f"Unknown request type {kind}")

    async def _inject(self, ws, rid: str, data: dict) -> None:
        values = data.get("parameterValues")
        if data.get("mode", "set") not in ("set", "add") or not isinstance(values, list) or not values:
            await self._error(ws, rid, 453, "Invalid parameterValues")
            return
        now = time.monotonic()
        self.check_gaps(now)
        for item in values:
            name = item.get("id") if isinstance(item, dict) else None
            value = item.get("value") if isinstance(item, dict) else None
            if name not in DEFAULT_INPUTS and name not in self.created:
                await self._error(ws, rid, 453, f"Parameter {name} not found")
                return
            if not isinstance(value, (int, float)) or value != value or abs(value) > 1_000_000:
                await self._error(ws, rid, 453, f"Invalid value for {name}")
                return
            self._last_seen[name] = now
            self.last_values[name] = float(value)
        self.injections += 1
        await self._reply(ws, rid, "InjectParameterDataResponse", {})

    async def _reply(self, ws, rid: str, kind: str, data: dict) -> None:
        await ws.send(json.dumps({"apiName": "VTubeStudioPublicAPI", "apiVersion": "1.0",
                                  "timestamp": int(time.time() * 1000), "requestID": rid, "messageType": kind,
                                  "data": data}))

    async def _error(self, ws, rid: str, error_id: int, message: str) -> None:
        self.errors.append(message)
        await self._reply(ws, rid, "APIError", {"errorID": error_id, "message": message})
