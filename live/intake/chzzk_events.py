"""Chzzk open-API session events -> `StreamEvent`s.

Everything here comes from viewers and is hostile: payloads may be JSON strings or objects, fields
may be missing or of the wrong type, nicknames and messages may carry markup or control characters,
and emoji maps may point anywhere. Only Chzzk's own emoji image hosts survive.
"""
from __future__ import annotations

import json
import unicodedata
from typing import Any
from urllib.parse import urlsplit

from .base import StreamEvent

# Image hosts Chzzk serves chat emojis from; any other URL in an emoji map is dropped.
EMOJI_HOSTS = frozenset({"ssl.pstatic.net", "nng-phinf.pstatic.net", "static-cdn.chzzk.naver.com"})
MAX_TEXT = 500
MAX_NICK = 40
MAX_EMOJIS = 20
_BIDI_AND_CONTROL = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F)}


def clean_text(value: Any, limit: int) -> str:
    """Plain single-paragraph text: NFC, no control or bidi-override characters, bounded length."""
    if not isinstance(value, str):
        return ""
    value = unicodedata.normalize("NFC", value)
    kept = [" " if ch in "\r\n\t" else ch for ch in value if ch in "\r\n\t" or (
        unicodedata.category(ch) != "Cc" and ch not in _BIDI_AND_CONTROL)]
    return " ".join("".join(kept).split())[:limit]


def decode_payload(raw: Any) -> dict[str, Any]:
    """Chzzk sends some payloads as JSON text and some as objects."""
    if isinstance(raw, (bytes, bytearray)):
        raw = raw.decode("utf-8", "replace")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return raw if isinstance(raw, dict) else {}


def clean_emojis(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    kept: dict[str, str] = {}
    for token, url in list(raw.items())[:MAX_EMOJIS]:
        if not isinstance(token, str) or not isinstance(url, str) or len(token) > 64 or len(url) > 500:
            continue
        parts = urlsplit(url)
        if parts.scheme == "https" and parts.hostname in EMOJI_HOSTS:
            kept[token] = url
    return kept


def _int(value: Any) -> int:
    try:
        return max(0, int(str(value).strip()))
    except (TypeError, ValueError):
        return 0


def parse_chat(raw: Any) -> StreamEvent | None:
    data = decode_payload(raw)
    profile = data.get("profile") if isinstance(data.get("profile"), dict) else {}
    viewer = clean_text(data.get("senderChannelId"), 64)
    text = clean_text(data.get("content"), MAX_TEXT)
    if not viewer or not text:
        return None
    badges = profile.get("badges") if isinstance(profile.get("badges"), list) else []
    return StreamEvent(
        kind="chat",
        viewer_id=viewer,
        nickname=clean_text(profile.get("nickname"), MAX_NICK) or viewer[:8],
        text=text,
        channel_id=clean_text(data.get("channelId"), 64),
        role=clean_text(data.get("userRoleCode"), 32),
        badges=tuple(clean_text(b.get("imageUrl"), 500) for b in badges[:5] if isinstance(b, dict)),
        emojis=clean_emojis(data.get("emojis")),
        sent_at_ms=_int(data.get("messageTime")),
    )


def parse_donation(raw: Any) -> StreamEvent | None:
    data = decode_payload(raw)
    viewer = clean_text(data.get("donatorChannelId"), 64)
    if not viewer:
        return None
    return StreamEvent(
        kind="donation",
        viewer_id=viewer,
        nickname=clean_text(data.get("donatorNickname"), MAX_NICK) or viewer[:8],
        text=clean_text(data.get("donationText"), MAX_TEXT),
        channel_id=clean_text(data.get("channelId"), 64),
        amount=_int(data.get("payAmount")),
        emojis=clean_emojis(data.get("emojis")),
    )


def parse_subscription(raw: Any) -> StreamEvent | None:
    data = decode_payload(raw)
    viewer = clean_text(data.get("subscriberChannelId"), 64)
    if not viewer:
        return None
    return StreamEvent(
        kind="subscription",
        viewer_id=viewer,
        nickname=clean_text(data.get("subscriberNickname"), MAX_NICK) or viewer[:8],
        text=clean_text(data.get("tierName"), 60),
        channel_id=clean_text(data.get("channelId"), 64),
        tier=_int(data.get("tierNo")),
        months=_int(data.get("month")),
    )


PARSERS = {"CHAT": parse_chat, "DONATION": parse_donation, "SUBSCRIPTION": parse_subscription}
