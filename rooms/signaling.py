"""Validation of signaling messages (docs/protocol.md, section 2). Pure functions, no I/O: the
consumer calls `parse_client_message` and relays only what it returns, so unknown fields never
reach the other participant."""
from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _

from avatarforge.errors import AppError
from avatarforge.json_body import decode_json_text
from rooms.avatar_schema import avatar_errors

MAX_MESSAGE_CHARS = 32_768
MAX_SDP_CHARS = 16_384
MAX_CANDIDATE_CHARS = 1_024
MAX_AVATAR_CHARS = 4_096
RATE_BURST = 50  # messages
RATE_PER_S = 20.0
ERROR_LIMIT = 10  # errors ...
ERROR_WINDOW_S = 30.0  # ... within this many seconds close the socket

RELAYED_TYPES = ("offer", "answer", "candidate", "avatar")
CLIENT_TYPES = ("join", "ping", "hangup", *RELAYED_TYPES)


class SignalError(AppError):
    """A message the server refuses; sent back as an error frame with this code."""

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(message, code=code, details=details)


def _invalid(details: dict[str, str]) -> SignalError:
    return SignalError("invalid_message", _("This message is missing a field or has a wrong one."), details)


def decode_text(text: str | None, binary: bytes | None) -> dict[str, Any]:
    if text is None:
        raise SignalError("invalid_json", _("Send JSON text messages, not binary ones."))
    try:
        message = decode_json_text(text, max_chars=MAX_MESSAGE_CHARS)
    except AppError as exc:  # message_too_large, invalid_json, json_too_deep
        raise SignalError(exc.code, exc.message, exc.details) from None
    if not isinstance(message, dict):
        raise SignalError("invalid_json", _("The message must be a JSON object."))
    return message


def _sdp(message: dict[str, Any]) -> str:
    if "sdp" not in message or message["sdp"] is None:
        raise _invalid({"sdp": "required"})
    sdp = message["sdp"]
    if not isinstance(sdp, str):
        raise _invalid({"sdp": "must be a string"})
    if not sdp:
        raise _invalid({"sdp": "must not be empty"})
    if len(sdp) > MAX_SDP_CHARS:
        raise SignalError(
            "sdp_too_large",
            _("The session description is too large (at most %(n)d characters).") % {"n": MAX_SDP_CHARS},
            {"max_chars": MAX_SDP_CHARS},
        )
    return sdp


def _candidate(message: dict[str, Any]) -> dict[str, Any] | None:
    if "candidate" not in message:
        raise _invalid({"candidate": "required"})
    raw = message["candidate"]
    if raw is None:
        return None  # end of candidates
    if not isinstance(raw, dict):
        raise _invalid({"candidate": "must be an object or null"})
    text = raw.get("candidate")
    if not isinstance(text, str):
        raise _invalid({"candidate.candidate": "must be a string"})
    if len(text) > MAX_CANDIDATE_CHARS:
        raise SignalError(
            "candidate_too_large",
            _("The ICE candidate is too large (at most %(n)d characters).") % {"n": MAX_CANDIDATE_CHARS},
            {"max_chars": MAX_CANDIDATE_CHARS},
        )
    mid = raw.get("sdpMid")
    index = raw.get("sdpMLineIndex")
    ufrag = raw.get("usernameFragment")
    if mid is not None and (not isinstance(mid, str) or len(mid) > 64):
        raise _invalid({"candidate.sdpMid": "must be a short string or null"})
    if index is not None and (not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 1024):
        raise _invalid({"candidate.sdpMLineIndex": "must be a small integer or null"})
    if ufrag is not None and (not isinstance(ufrag, str) or len(ufrag) > 256):
        raise _invalid({"candidate.usernameFragment": "must be a short string or null"})
    return {"candidate": text, "sdpMid": mid, "sdpMLineIndex": index, "usernameFragment": ufrag}


def _avatar(message: dict[str, Any]) -> dict[str, Any]:
    avatar = message.get("avatar")
    if not isinstance(avatar, dict):
        raise _invalid({"avatar": "must be an object"})
    if len(json.dumps(avatar, separators=(",", ":"))) > MAX_AVATAR_CHARS:
        raise SignalError(
            "avatar_too_large",
            _("The avatar description is too large (at most %(n)d characters).") % {"n": MAX_AVATAR_CHARS},
            {"max_chars": MAX_AVATAR_CHARS},
        )
    problems = avatar_errors(avatar)
    if problems:
        raise SignalError(
            "invalid_avatar",
            _("The avatar description does not match the documented shape (docs/protocol.md)."),
            problems,
        )
    # The schema allows no other fields, so this is the whole description, in a fixed order.
    return {key: avatar.get(key) for key in ("renderer", "fileHash", "id", "name", "license")}


MAX_FRAME_VERSIONS = 8


def _frame_versions(message: dict[str, Any]) -> list[int] | None:
    """The parameter-frame versions the sender can decode (docs/protocol.md, "Frame versions").

    Absent on clients older than version 2 frames: the other side then sends version 1 only.
    Versions this server does not know are still relayed (a newer client pair may use them)."""
    versions = message.get("frames")
    if versions is None:
        return None
    if (
        not isinstance(versions, list)
        or not 1 <= len(versions) <= MAX_FRAME_VERSIONS
        or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 255 for v in versions)
    ):
        raise _invalid({"frames": f"must be a list of 1 to {MAX_FRAME_VERSIONS} frame versions (integers 1-255)"})
    return sorted(set(versions))


def parse_client_message(message: dict[str, Any]) -> dict[str, Any]:
    """Validate a decoded message; return the cleaned message to act on (and to relay)."""
    kind = message.get("type")
    if kind not in CLIENT_TYPES:
        raise SignalError(
            "unknown_type",
            _("Unknown message type. Use one of: %(types)s.") % {"types": ", ".join(CLIENT_TYPES)},
            {"allowed": list(CLIENT_TYPES)},
        )
    if kind in ("offer", "answer"):
        return {"type": kind, "sdp": _sdp(message)}
    if kind == "candidate":
        return {"type": kind, "candidate": _candidate(message)}
    if kind == "avatar":
        cleaned = {"type": kind, "avatar": _avatar(message)}
        versions = _frame_versions(message)
        if versions is not None:
            cleaned["frames"] = versions
        return cleaned
    if kind == "ping":
        t = message.get("t")
        if t is not None and (not isinstance(t, (int, float)) or isinstance(t, bool)):
            raise _invalid({"t": "must be a number"})
        return {"type": kind, "t": t}
    return {"type": kind}


class TokenBucket:
    """Per-connection message rate limit; lives on the consumer instance (one socket)."""

    def __init__(self, *, burst: int | None = None, per_second: float | None = None) -> None:
        self.capacity = float(burst if burst is not None else RATE_BURST)
        self.tokens = self.capacity
        self.rate = per_second if per_second is not None else RATE_PER_S
        self.stamp: float | None = None

    def take(self, now: float) -> float:
        """Take one token; returns 0 when allowed, else seconds until one is available."""
        if self.stamp is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate
