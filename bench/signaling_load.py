"""Signaling load: many rooms on one or more Daphne processes, two sockets each, through channels-redis.

    python -m bench.signaling_load [--rooms 2000] [--daphnes 2] [--concurrency 10]

Prints:
    FIGURE rooms_connected <n> rooms     rooms where both participants joined and an offer was relayed
    FIGURE join_ms_p95 <ms> ms           `join` sent -> `joined` received (goal < 100)
    FIGURE errors <n> errors             refused sockets, error frames, missing relays (goal 0)

Every room gets its own two users (API tokens). Sockets open with at most `--concurrency`
handshakes + joins in flight (people arrive over time, not all in one millisecond; on 2 busy
cores one Daphne serves about 400 connect+join a second, so join latency grows with this
number); all of them stay open until every room is checked, so the server holds 2 x rooms
sockets at once. Each room then
relays one offer and one answer, and everyone hangs up; the run also checks that no call state
is left in Redis. With `--daphnes N` the two participants of room i join through Daphne i % N and
(i + 1) % N: with two or more, the peers of every room sit on different processes and every relay
crosses Redis. Uses a throw-away SQLite database and a private redis-server (never REDIS_URL:
the run opens thousands of connections and must not disturb a shared one).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import timedelta

from .servers import bench_environment, daphne_servers, raise_fd_limit


async def _recv(ws, kind: str, timeout: float = 30.0) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] == kind:
            return message
        if message["type"] == "error":
            raise RuntimeError(message["code"])


async def _run(servers, rooms: list[tuple[str, str, str]], concurrency: int) -> dict:
    import websockets

    gate = asyncio.Semaphore(concurrency)
    join_ms: list[float] = []
    connect_ms: list[float] = []
    errors: list[str] = []
    sockets: dict[tuple[int, int], object] = {}

    async def open_and_join(index: int, seat: int, code: str, token: str) -> None:
        server = servers[(index + seat) % len(servers)]
        async with gate:
            started = time.perf_counter()
            try:
                ws = await websockets.connect(
                    f"{server.ws_base}/ws/rooms/{code}/", origin=server.http_url,
                    additional_headers=[("Authorization", f"Bearer {token}")], open_timeout=30,
                )  # fmt: skip
                connected = time.perf_counter()
                await ws.send(json.dumps({"type": "join"}))
                await _recv(ws, "joined")
                join_ms.append((time.perf_counter() - connected) * 1000)
                connect_ms.append((connected - started) * 1000)
                sockets[(index, seat)] = ws
            except Exception as exc:  # counted, the run goes on
                errors.append(f"join {code}/{seat}: {exc!r}")

    # The first participant of every room, then the second: each room really has someone waiting.
    await asyncio.gather(*(open_and_join(i, 0, code, t0) for i, (code, t0, _t1) in enumerate(rooms)))
    await asyncio.gather(*(open_and_join(i, 1, code, t1) for i, (code, _t0, t1) in enumerate(rooms)))
    open_at_peak = len(sockets)

    connected_rooms = 0

    async def check(index: int) -> None:
        nonlocal connected_rooms
        a, b = sockets.get((index, 0)), sockets.get((index, 1))
        if a is None or b is None:
            return
        try:
            await _recv(a, "peer_joined")
            sdp = f"v=0\r\na=ice-ufrag:bench{index}\r\n"
            await b.send(json.dumps({"type": "offer", "sdp": sdp}))
            offer = await _recv(a, "offer")
            await a.send(json.dumps({"type": "answer", "sdp": sdp}))
            answer = await _recv(b, "answer")
            if offer["sdp"] != sdp or answer["sdp"] != sdp:
                raise RuntimeError("relayed SDP differs")
            connected_rooms += 1
        except Exception as exc:
            errors.append(f"relay {index}: {exc!r}")

    await asyncio.gather(*(check(i) for i in range(len(rooms))))

    async def hang_up(ws) -> None:
        try:
            await ws.send(json.dumps({"type": "hangup"}))
            await asyncio.wait_for(ws.wait_closed(), 30)
        except Exception as exc:
            errors.append(f"hangup: {exc!r}")

    await asyncio.gather(*(hang_up(ws) for ws in sockets.values()))
    return {
        "join_ms": join_ms,
        "connect_ms": connect_ms,
        "errors": errors,
        "rooms_connected": connected_rooms,
        "open_at_peak": open_at_peak,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rooms", type=int, default=2000)
    parser.add_argument("--daphnes", type=int, default=2, help="Daphne processes sharing one Redis")
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args(argv)
    fd_limit = raise_fd_limit(4 * args.rooms + 4096)

    with bench_environment(prefix="signal", private_redis=True) as redis_url:
        from django.utils import timezone

        from accounts.models import Plan, User
        from accounts.services import create_api_token
        from rooms.models import Room
        from rooms.peer import percentile

        plan = Plan.default()
        users = User.objects.bulk_create(
            [User(email=f"load{i}@bench.invalid", plan=plan, password="!") for i in range(2 * args.rooms)]
        )
        tokens = [create_api_token(user=u, name="bench")[1] for u in users]
        rooms = []
        for i in range(args.rooms):
            room = Room.objects.create(owner=users[2 * i], expires_at=timezone.now() + timedelta(hours=1))
            rooms.append((room.code, tokens[2 * i], tokens[2 * i + 1]))

        with daphne_servers(args.daphnes) as servers:
            result = asyncio.run(_run(servers, rooms, args.concurrency))

        import redis

        client = redis.Redis.from_url(redis_url)
        codes = {code.encode() for code, _t0, _t1 in rooms}
        leftovers = sum(1 for key in client.scan_iter(match="*rooms:call:*") if key.rsplit(b":", 1)[-1] in codes)
        client.close()

    errors = len(result["errors"]) + (leftovers > 0)
    print(f"FIGURE rooms_connected {result['rooms_connected']} rooms")
    print(f"FIGURE join_ms_p95 {percentile(result['join_ms'], 95):.1f} ms")
    print(f"FIGURE errors {errors} errors")
    print(
        f"# daphnes {args.daphnes}, fd limit {fd_limit}, concurrency {args.concurrency}, sockets open at peak {result['open_at_peak']}, join p50 {percentile(result['join_ms'], 50):.1f} ms, "
        f"connect p95 {percentile(result['connect_ms'], 95):.1f} ms, call keys left {leftovers}",
        file=sys.stderr,
    )
    for line in result["errors"][:10]:
        print(f"# {line}", file=sys.stderr)
    return 0 if errors == 0 and result["rooms_connected"] == args.rooms else 1


if __name__ == "__main__":
    raise SystemExit(main())
