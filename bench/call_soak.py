"""Call soak with faults: simultaneous two-peer aiortc calls through two Daphne processes while
one Daphne is killed (SIGKILL) and restarted and Redis is restarted.

    python -m bench.call_soak [--calls 20] [--minutes 5] [--rate 30] [--max-gap-s 2]

Prints:
    FIGURE calls_survived_pct <pct> %   calls whose DataChannel kept delivering both ways (no run of
                                        lost frames longer than --max-gap-s, frames sent in the
                                        last 5 s arrive) and whose two peers are joined again at
                                        the end (goal 99)
    FIGURE frames_lost_pct <pct> %      frames sent in the steady window and never received
    FIGURE resume_ms_p95 <ms> ms        signaling socket lost -> `joined` again, per reconnect

Room i's first peer joins through Daphne i % 2, the second through (i + 1) % 2, so every call
spans both processes. The peers (rooms.peer.AvatarPeer with `reconnect`) run in two child
processes, one per seat, as two browsers would. At 30 % of the run Daphne 0 is killed with
SIGKILL and started again 2 s later (on a new port: peers that lose their socket reconnect to
whichever server is up, as behind a load balancer); at 60 % the private Redis is stopped and
started again on its port, empty (no persistence), as a restart loses every seat and group.
Uses a throw-away SQLite database and a private redis-server; never touches a shared service.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from .servers import (
    bench_environment,
    free_port,
    raise_fd_limit,
    server_env,
    start_daphne,
    start_redis,
    stop,
    wait_for_port,
)


def _peer_process(seat: int, rooms: list[tuple[str, str]], ports, origin_port, rate: float, duration: float,
                  ready, start, out) -> None:
    """Child: one peer per room (this seat), all on one event loop; reports per-peer records."""
    from rooms.peer import AvatarPeer, allow_loopback_candidates

    allow_loopback_candidates(only=True)

    def url_for(index: int, code: str):
        def url(attempt: int) -> str:
            # Preferred server first; on each retry the next one, skipping servers that are down.
            for step in range(len(ports)):
                port = ports[(index + seat + attempt + step) % len(ports)]
                if port:
                    return f"ws://127.0.0.1:{port}/ws/rooms/{code}/"
            return f"ws://127.0.0.1:{ports[0] or 1}/ws/rooms/{code}/"

        return url

    async def main() -> None:
        joined = 0

        def on_event(name: str, _data: dict) -> None:
            nonlocal joined
            if name == "joined":
                joined += 1
                if joined >= len(rooms):
                    ready.set()

        peers = [
            AvatarPeer(ws_url=url_for(i, code), origin=f"http://127.0.0.1:{origin_port}",
                       headers=[("Authorization", f"Bearer {token}")], rate=rate, record=True, reconnect=True,
                       on_event=on_event)
            for i, (code, token) in enumerate(rooms)
        ]  # fmt: skip
        if seat == 1:
            while not start.is_set():
                await asyncio.sleep(0.05)
        results = await asyncio.gather(*(p.run(duration=duration) for p in peers), return_exceptions=True)
        records = []
        for peer, result in zip(peers, results, strict=True):
            st = peer.stats
            records.append({
                "error": repr(result) if isinstance(result, BaseException) else None,
                "sent_ns": st.sent_ns, "received_ns": st.received_ns, "resume_ms": st.resume_ms,
                "reconnects": st.reconnects, "calls": st.calls, "errors": st.errors,
                "joined_at_end": peer.dropped_at is None and peer.joined is not None,
            })  # fmt: skip
        out.put((seat, records))

    asyncio.run(main())


def _direction(sent: dict[int, int], received: list[tuple[int, int]], lo: int, hi: int,
               max_gap_s: float) -> tuple[int, int, bool]:
    """(counted, lost, kept_delivering) for frames one peer sent to the other in [lo, hi].

    Kept delivering: no run of consecutive lost frames spans more than `max_gap_s` (by send
    time), and frames sent in the last 5 s still arrive. Measured on the sender's clock, so a
    stalled process on an overloaded machine (frames late, not lost) does not count as a break;
    a closed channel stops the sender, which the end check catches."""
    got = {seq for seq, _t in received}
    window = sorted((t, seq) for seq, t in sent.items() if lo <= t <= hi)
    lost = longest = 0
    run_start = None
    for t, seq in window:
        if seq in got:
            run_start = None
            continue
        lost += 1
        run_start = t if run_start is None else run_start
        longest = max(longest, t - run_start)
    tail = [seq for t, seq in window if t >= hi - 5_000_000_000]
    ok = longest / 1e9 <= max_gap_s and any(seq in got for seq in tail)
    return len(window), lost, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=30.0, help="frames per second each way")
    parser.add_argument("--max-gap-s", type=float, default=2.0)
    args = parser.parse_args(argv)
    duration = args.minutes * 60
    raise_fd_limit()

    workdir = Path(tempfile.mkdtemp(prefix="bench-soak-redis-"))
    redis_port = free_port()
    redis = start_redis(redis_port, workdir)
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
    daphnes = []
    children = []
    try:
        with bench_environment(prefix="soak"):
            from accounts.services import create_api_token, create_user
            from rooms.peer import percentile
            from rooms.services import create_room

            rooms: list[tuple[str, str, str]] = []
            for i in range(args.calls):
                a = create_user(email=f"soak{i}a@bench.invalid", password="bench-password-1")
                b = create_user(email=f"soak{i}b@bench.invalid", password="bench-password-1")
                room = create_room(owner=a)
                rooms.append((room.code, create_api_token(user=a, name="b")[1], create_api_token(user=b, name="b")[1]))

            env = server_env()  # INFO: start_daphne reads the "Listening on" line
            daphnes = [start_daphne(env, timeout=120), start_daphne(env, timeout=120)]
            ctx = mp.get_context("spawn")
            ports = ctx.Array("i", [d.port for d in daphnes])
            ready, start, out = ctx.Event(), ctx.Event(), ctx.Queue()
            t0 = time.time_ns()
            for seat in (0, 1):
                seat_rooms = [(code, (ta, tb)[seat]) for code, ta, tb in rooms]
                child = ctx.Process(target=_peer_process, args=(seat, seat_rooms, ports, daphnes[1].port, args.rate,
                                                                duration, ready, start, out))  # fmt: skip
                child.start()
                children.append(child)
                if seat == 0:
                    ready.wait(120)
                    start.set()
            began = time.monotonic()

            def at(fraction: float) -> None:
                time.sleep(max(0.0, began + fraction * duration - time.monotonic()))

            at(0.3)
            print(f"# {time.monotonic() - began:.0f}s: SIGKILL Daphne 0", file=sys.stderr)
            ports[0] = 0
            daphnes[0].proc.send_signal(signal.SIGKILL)
            daphnes[0].proc.wait()
            time.sleep(2)
            daphnes[0] = start_daphne(env, timeout=120)
            ports[0] = daphnes[0].port
            at(0.6)
            print(f"# {time.monotonic() - began:.0f}s: restart Redis", file=sys.stderr)
            redis.terminate()
            redis.wait(timeout=10)
            time.sleep(1)
            redis = start_redis(redis_port, workdir)
            wait_for_port(redis_port)

            records: dict[int, list[dict]] = {}
            for _ in children:
                seat, recs = out.get(timeout=duration + 300)
                records[seat] = recs
            end_ns = time.time_ns()
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
        for d in daphnes:
            stop(d)
        redis.terminate()
        redis.wait(timeout=10)

    lo, hi = t0 + 5_000_000_000, end_ns - 3_000_000_000  # steady window: after setup, before hang-up
    survived = counted = lost = 0
    resume: list[float] = []
    for i in range(args.calls):
        a, b = records[0][i], records[1][i]
        ca, la, ok_ab = _direction(a["sent_ns"], b["received_ns"], lo, hi, args.max_gap_s)
        cb, lb, ok_ba = _direction(b["sent_ns"], a["received_ns"], lo, hi, args.max_gap_s)
        counted += ca + cb
        lost += la + lb
        resume += a["resume_ms"] + b["resume_ms"]
        alive = ok_ab and ok_ba and a["joined_at_end"] and b["joined_at_end"] and not a["error"] and not b["error"]
        survived += alive
        if not alive:
            print(f"# call {i} lost: a->b ok {ok_ab}, b->a ok {ok_ba}, joined {a['joined_at_end']}/{b['joined_at_end']}, "
                  f"calls {a['calls']}/{b['calls']}, errors {a['error'] or a['errors']} / {b['error'] or b['errors']}",
                  file=sys.stderr)  # fmt: skip
    print(f"FIGURE calls_survived_pct {100 * survived / args.calls:.1f} %")
    print(f"FIGURE frames_lost_pct {100 * lost / max(1, counted):.2f} %")
    print(f"FIGURE resume_ms_p95 {percentile(resume, 95):.1f} ms")
    print(f"# calls {args.calls}, minutes {args.minutes}, rate {args.rate}, frames counted {counted}, "
          f"reconnects {len(resume)}, resume p50 {percentile(resume, 50):.1f} ms", file=sys.stderr)
    return 0 if survived == args.calls else 1


if __name__ == "__main__":
    raise SystemExit(main())
