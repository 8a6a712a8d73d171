"""Chzzk open-API OAuth (authorization code) for linking a streamer's channel.

    dashboard -> authorize_url(state) -> Chzzk asks the streamer -> our callback with code+state
    -> exchange_code() -> tokens stored sealed -> refresh() before they expire.
Token responses are wrapped like every Chzzk open-API answer: {"code", "message", "content"}.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from django.conf import settings

from avatarforge.errors import AppError


class ChzzkUnavailable(AppError):
    status = 503
    code = "chzzk_unavailable"
    default_message = "Chzzk could not be reached. Try again in a moment."


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_in: int


def configured() -> bool:
    return bool(settings.CHZZK_CLIENT_ID and settings.CHZZK_CLIENT_SECRET)


def authorize_url(*, redirect_uri: str, state: str) -> str:
    query = urlencode({"clientId": settings.CHZZK_CLIENT_ID, "redirectUri": redirect_uri, "state": state})
    return f"{settings.CHZZK_AUTH_URL}?{query}"


def _post(path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    try:
        response = httpx.post(settings.CHZZK_API_BASE.rstrip("/") + path, json=body, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        raise ChzzkUnavailable() from exc
    return _content(response)


def _content(response: httpx.Response) -> dict[str, Any]:
    if response.status_code in (400, 401, 403):
        raise AppError("Chzzk refused the request; link the channel again.", code="chzzk_refused",
                       details={"status": response.status_code})
    if response.status_code >= 500:
        raise ChzzkUnavailable()
    try:
        content = response.json().get("content")
    except (ValueError, AttributeError):
        content = None
    if not isinstance(content, dict):
        raise ChzzkUnavailable("Chzzk answered in an unexpected shape.")
    return content


def _tokens(content: dict[str, Any]) -> TokenSet:
    try:
        return TokenSet(str(content["accessToken"]), str(content["refreshToken"]), int(content.get("expiresIn", 86400)))
    except (KeyError, TypeError, ValueError) as exc:
        raise ChzzkUnavailable("Chzzk sent no usable tokens.") from exc


def exchange_code(*, code: str, state: str) -> TokenSet:
    return _tokens(_post("/auth/v1/token", {
        "grantType": "authorization_code", "clientId": settings.CHZZK_CLIENT_ID,
        "clientSecret": settings.CHZZK_CLIENT_SECRET, "code": code, "state": state}))


def refresh(*, refresh_token: str) -> TokenSet:
    return _tokens(_post("/auth/v1/token", {
        "grantType": "refresh_token", "refreshToken": refresh_token,
        "clientId": settings.CHZZK_CLIENT_ID, "clientSecret": settings.CHZZK_CLIENT_SECRET}))


def whoami(*, access_token: str) -> tuple[str, str]:
    try:
        response = httpx.get(settings.CHZZK_API_BASE.rstrip("/") + "/open/v1/users/me",
                             headers={"Authorization": f"Bearer {access_token}"}, timeout=10)
    except httpx.HTTPError as exc:
        raise ChzzkUnavailable() from exc
    content = _content(response)
    return str(content.get("channelId", ""))[:64], str(content.get("channelName", ""))[:100]
