"""Join a room as a WebRTC avatar peer (aiortc) through the real signaling endpoint.

    manage.py avatar_peer http://host/rooms/<code>/ --token af_...        # as a user (API token)
    manage.py avatar_peer http://host/rooms/invite/<token>/ --name Robo   # as a guest (one-time invite)

Sends the idle animation (default) or `--frames FILE` replayed in a loop, or with `--mirror`
sends back every frame it receives (the practice partner). Prints received frame counts.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rooms.peer import AvatarPeer, FrameSource, allow_loopback_candidates, load_frames

_INVITE = re.compile(r"^/rooms/invite/(?P<token>[^/]+)/?$")
_ROOM = re.compile(r"^/(?:ws/)?rooms/(?P<code>[a-z0-9-]{1,40})(?:/lobby)?/?$")


def redeem_invite(base: str, token: str, name: str) -> tuple[str, str]:
    """Redeem a guest invite over the REST API; returns (ws_path, session cookie header)."""
    import httpx

    with httpx.Client(base_url=base, timeout=15) as client:
        response = client.post("/api/rooms/invites/redeem", json={"token": token, "name": name})
        if response.status_code != 200:
            try:
                body = response.json()
            except ValueError:
                body = {"code": "http_error", "message": response.text[:200]}
            raise CommandError(f"invite refused ({response.status_code} {body.get('code')}): {body.get('message')}")
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        return response.json()["ws_path"], cookie


class Command(BaseCommand):
    help = "Join a room as an aiortc avatar peer: idle animation, replayed frames or --mirror."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", help="room link (http://host/rooms/<code>/) or guest invite link")
        parser.add_argument("--token", default=os.environ.get("AVATARFORGE_TOKEN", ""),
                            help="API token for a room link (or env AVATARFORGE_TOKEN)")
        parser.add_argument("--name", default="Avatar peer", help="display name when joining by invite")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--mirror", action="store_true", help="send back every frame received")
        mode.add_argument("--frames", type=Path, help="replay recorded frames (hex or JSON values per line)")
        mode.add_argument("--silent", action="store_true", help="send nothing, only count")
        parser.add_argument("--rate", type=float, default=30.0, help="frames per second (default 30)")
        parser.add_argument("--duration", type=float, default=60.0, help="seconds to stay (default 60)")
        parser.add_argument("--leave-when-alone", action="store_true", help="leave when the other participant leaves")
        parser.add_argument("--record", type=Path, help="write received frames to this file (hex per line)")
        parser.add_argument("--stats-json", type=Path, help="write counts and per-frame timings as JSON")
        parser.add_argument("--loopback-only", action="store_true", help="offer only 127.0.0.1 host candidates")
        parser.add_argument("--quiet", action="store_true", help="print only the final counts")

    def handle(self, *args, **opts) -> None:
        if not 0 < opts["duration"] <= 24 * 3600:
            raise CommandError("--duration must be between 0 and 86400 seconds")
        if not 1 <= opts["rate"] <= 120:
            raise CommandError("--rate must be between 1 and 120")
        parts = urlsplit(opts["url"])
        if parts.scheme not in ("http", "https", "ws", "wss") or not parts.netloc:
            raise CommandError("give the room's http(s) link or its invite link")
        http_scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
        base = f"{http_scheme}://{parts.netloc}"
        headers: list[tuple[str, str]] = []
        if match := _INVITE.match(parts.path):
            ws_path, cookie = redeem_invite(base, match["token"], opts["name"])
            headers.append(("Cookie", cookie))
        elif match := _ROOM.match(parts.path):
            if not opts["token"]:
                raise CommandError("a room link needs --token (an API token from your profile page)")
            ws_path = f"/ws/rooms/{match['code'].replace('-', '')}/"
            headers.append(("Authorization", f"Bearer {opts['token']}"))
        else:
            raise CommandError("the link is neither a room link (/rooms/<code>/) nor an invite (/rooms/invite/<token>/)")
        ws_url = ("wss" if http_scheme == "https" else "ws") + f"://{parts.netloc}{ws_path}"

        source = None
        if opts["frames"]:
            try:
                source = FrameSource(load_frames(opts["frames"]))
            except (OSError, ValueError) as exc:
                raise CommandError(str(exc)) from None
        allow_loopback_candidates(only=opts["loopback_only"])
        # Backstop: whatever happens in the network stack, the process ends.
        signal.signal(signal.SIGALRM, lambda *_: os._exit(124))
        signal.alarm(int(opts["duration"]) + 30)

        record = bool(opts["record"] or opts["stats_json"])
        peer = AvatarPeer(
            ws_url=ws_url, origin=base, headers=headers, mirror=opts["mirror"], send=not opts["silent"],
            rate=opts["rate"], source=source, record=record, leave_when_alone=opts["leave_when_alone"],
            on_event=None if opts["quiet"] else self._event,
        )
        started = time.monotonic()
        try:
            stats = asyncio.run(self._run(peer, opts["duration"], opts["quiet"]))
        except OSError as exc:
            raise CommandError(f"could not connect to {ws_url}: {exc}") from None
        summary = {**stats.summary(), "outcome": peer.outcome, "seconds": round(time.monotonic() - started, 2)}
        if opts["record"]:
            opts["record"].write_text("".join(f.hex() + "\n" for f in stats.received_frames), encoding="utf-8")
        if opts["stats_json"]:
            opts["stats_json"].write_text(json.dumps({
                **summary,
                "sent_ns": {str(k): v for k, v in stats.sent_ns.items()},
                "received_ns": stats.received_ns,
            }), encoding="utf-8")
        self.stdout.write(f"received frames: {stats.received}  sent frames: {stats.sent}  "
                          f"mirrored: {stats.mirrored}  invalid: {stats.invalid}  calls: {stats.calls}")
        self.stdout.write(json.dumps(summary))
        if peer.outcome in ("room_full", "room_closed", "room_not_found", "not_authenticated", "too_many_errors"):
            sys.exit(2)

    async def _run(self, peer: AvatarPeer, duration: float, quiet: bool):
        progress = None if quiet else asyncio.ensure_future(self._progress(peer))
        try:
            return await peer.run(duration=duration)
        finally:
            if progress:
                progress.cancel()

    async def _progress(self, peer: AvatarPeer) -> None:
        while True:
            await asyncio.sleep(5)
            self.stdout.write(f"  sent {peer.stats.sent}, received {peer.stats.received}")

    def _event(self, name: str, data: dict) -> None:
        if name in ("joined", "peer_joined", "peer_left", "peer_disconnected", "channel_open", "room_closed", "error"):
            shown = {k: v for k, v in data.items() if k not in ("ice_servers", "sdp", "type")}
            self.stdout.write(f"{name} {json.dumps(shown)}")
