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

# Events worth a line in --trace: what the peer did around a gap (socket lost, rejoined, the
# peer connection's state, a new offer or answer that tears the DataChannel down).
_TRACED = ("signaling_lost", "joined", "peer_joined", "peer_disconnected", "peer_left", "offer", "answer",
           "connection_state", "channel_open", "call_closed", "error")


def _peer_process(seat: int, rooms: list[tuple[str, str]], ports, origin_port, rate: float, duration: float,
                  ready, start, out, trace: bool = False) -> None:
    """Child: one peer per room (this seat), all on one event loop; reports per-peer records."""
    if trace:  # ICE consent expiry and transport errors, with unix times to line up with the trace
        import logging

        logging.basicConfig(level=logging.WARNING, format=f"#   %(created).2f seat {seat} %(name)s: %(message)s")
        logging.getLogger("aioice").setLevel(logging.INFO)
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
        traces: list[list[tuple[int, str]]] = [[] for _ in rooms]

        def on_event_of(index: int):
            def on_event(name: str, data: dict) -> None:
                nonlocal joined
                if name in _TRACED:
                    detail = data.get("state") or data.get("code") or ""
                    if name == "joined":
                        detail = f"resumed={data.get('resumed')} initiator={data.get('initiator')}"
                    traces[index].append((time.time_ns(), f"{name} {detail}".strip()))
                if name == "joined":
                    joined += 1
                    if joined >= len(rooms):
                        ready.set()

            return on_event

        peers = [
            AvatarPeer(ws_url=url_for(i, code), origin=f"http://127.0.0.1:{origin_port}",
                       headers=[("Authorization", f"Bearer {token}")], rate=rate, record=True, reconnect=True,
                       on_event=on_event_of(i))
            for i, (code, token) in enumerate(rooms)
        ]  # fmt: skip
        if seat == 1:
            while not start.is_set():
                await asyncio.sleep(0.05)
        lags: list[tuple[int, float]] = []  # (when, seconds late) of event-loop stalls over 0.25 s

        async def watch_loop() -> None:
            # A starved process wakes late: the stalls, next to the gaps, tell CPU from signaling.
            while True:
                before = time.perf_counter()
                await asyncio.sleep(0.05)
                late = time.perf_counter() - before - 0.05
                if late > 0.25:
                    lags.append((time.time_ns(), late))

        watcher = asyncio.ensure_future(watch_loop())
        cpu0 = time.process_time()
        results = await asyncio.gather(*(p.run(duration=duration) for p in peers), return_exceptions=True)
        watcher.cancel()
        cpu_s = time.process_time() - cpu0
        records = []
        for peer, result, trace in zip(peers, results, traces, strict=True):
            st = peer.stats
            records.append({
                "error": repr(result) if isinstance(result, BaseException) else None,
                "sent_ns": st.sent_ns, "received_ns": st.received_ns, "resume_ms": st.resume_ms,
                "reconnects": st.reconnects, "calls": st.calls, "errors": st.errors,
                "joined_at_end": peer.dropped_at is None and peer.joined is not None,
                "trace": trace,
            })  # fmt: skip
        out.put((seat, records, {"lags": lags, "cpu_s": cpu_s}))

    asyncio.run(main())


def _direction(sent: dict[int, int], received: list[tuple[int, int]], lo: int, hi: int,
               max_gap_s: float) -> tuple[int, int, bool, tuple[int, int]]:
    """(counted, lost, kept_delivering, (start, end) of the longest run of lost frames, send
    times in ns) for frames one peer sent to the other in [lo, hi].

    Kept delivering: no run of consecutive lost frames spans more than `max_gap_s` (by send
    time), and frames sent in the last 5 s still arrive. Measured on the sender's clock, so a
    stalled process on an overloaded machine (frames late, not lost) does not count as a break;
    a closed channel stops the sender, which the end check catches."""
    got = {seq for seq, _t in received}
    window = sorted((t, seq) for seq, t in sent.items() if lo <= t <= hi)
    lost = longest = 0
    run_start = None
    gap = (0, 0)
    for t, seq in window:
        if seq in got:
            run_start = None
            continue
        lost += 1
        run_start = t if run_start is None else run_start
        if t - run_start >= longest:
            longest, gap = t - run_start, (run_start, t)
    tail = [seq for t, seq in window if t >= hi - 5_000_000_000]
    ok = longest / 1e9 <= max_gap_s and any(seq in got for seq in tail)
    return len(window), lost, ok, gap


def _print_trace(index: int, t0: int, faults: list[tuple[int, str]], gap_ab: tuple[int, int],
                 gap_ba: tuple[int, int], trace_a: list, trace_b: list) -> None:
    def s(t: int) -> str:
        return f"{(t - t0) / 1e9:7.2f}s"

    def gap(span: tuple[int, int]) -> str:
        return f"{s(span[0]).strip()}..{s(span[1]).strip()}" if span[0] else "none"

    print(f"# call {index}: longest run of lost frames (send times) a->b {gap(gap_ab)}, b->a {gap(gap_ba)}",
          file=sys.stderr)
    lines = [(t, f"  --  {what}") for t, what in faults]
    lines += [(t, f"  a   {what}") for t, what in trace_a] + [(t, f"  b   {what}") for t, what in trace_b]
    for t, what in sorted(lines):
        print(f"#   {s(t)} {what}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=30.0, help="frames per second each way")
    parser.add_argument("--max-gap-s", type=float, default=2.0)
    parser.add_argument("--trace", action="store_true",
                        help="for every call, the longest gap each way and each peer's events, in seconds from the start")
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
                                                                duration, ready, start, out, args.trace))  # fmt: skip
                child.start()
                children.append(child)
                if seat == 0:
                    ready.wait(120)
                    start.set()
            began = time.monotonic()

            def at(fraction: float) -> None:
                time.sleep(max(0.0, began + fraction * duration - time.monotonic()))

            faults: list[tuple[int, str]] = []
            at(0.3)
            faults.append((time.time_ns(), "SIGKILL Daphne 0"))
            print(f"# {time.monotonic() - began:.0f}s: SIGKILL Daphne 0", file=sys.stderr)
            ports[0] = 0
            daphnes[0].proc.send_signal(signal.SIGKILL)
            daphnes[0].proc.wait()
            time.sleep(2)
            daphnes[0] = start_daphne(env, timeout=120)
            ports[0] = daphnes[0].port
            faults.append((time.time_ns(), "Daphne 0 up again"))
            at(0.6)
            print(f"# {time.monotonic() - began:.0f}s: restart Redis", file=sys.stderr)
            faults.append((time.time_ns(), "Redis stopped"))
            redis.terminate()
            redis.wait(timeout=10)
            time.sleep(1)
            redis = start_redis(redis_port, workdir)
            wait_for_port(redis_port)
            faults.append((time.time_ns(), "Redis up again"))

            records: dict[int, list[dict]] = {}
            loads: dict[int, dict] = {}
            for _ in children:
                seat, recs, load = out.get(timeout=duration + 300)
                records[seat], loads[seat] = recs, load
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
    delays: list[float] = []  # ms from send to receipt, of frames that arrived (both processes share a clock)
    for i in range(args.calls):
        a, b = records[0][i], records[1][i]
        for sender, receiver in ((a, b), (b, a)):
            delays += [(t - sender["sent_ns"][seq]) / 1e6 for seq, t in receiver["received_ns"][::10]
                       if seq in sender["sent_ns"] and lo <= sender["sent_ns"][seq] <= hi]  # fmt: skip
        ca, la, ok_ab, gap_ab = _direction(a["sent_ns"], b["received_ns"], lo, hi, args.max_gap_s)
        cb, lb, ok_ba, gap_ba = _direction(b["sent_ns"], a["received_ns"], lo, hi, args.max_gap_s)
        counted += ca + cb
        lost += la + lb
        resume += a["resume_ms"] + b["resume_ms"]
        alive = ok_ab and ok_ba and a["joined_at_end"] and b["joined_at_end"] and not a["error"] and not b["error"]
        survived += alive
        if not alive:
            print(f"# call {i} lost: a->b ok {ok_ab}, b->a ok {ok_ba}, joined {a['joined_at_end']}/{b['joined_at_end']}, "
                  f"calls {a['calls']}/{b['calls']}, errors {a['error'] or a['errors']} / {b['error'] or b['errors']}",
                  file=sys.stderr)  # fmt: skip
        if args.trace:
            _print_trace(i, t0, faults, gap_ab, gap_ba, a["trace"], b["trace"])
    sent = sum(len(r["sent_ns"]) for recs in records.values() for r in recs)
    print(f"# frames sent {sent} of {int(2 * args.calls * args.rate * duration)} scheduled; load average "
          f"{os.getloadavg()[0]:.2f}", file=sys.stderr)  # fmt: skip
    for seat, load in sorted(loads.items()):
        stalls = load["lags"]
        print(f"# peers of seat {seat}: {load['cpu_s']:.0f} s CPU in {duration:.0f} s, {len(stalls)} event-loop stalls "
              f"over 0.25 s, longest {max((s for _t, s in stalls), default=0):.2f} s", file=sys.stderr)  # fmt: skip
        if args.trace:
            for t, late in stalls:
                print(f"#   seat {seat} stalled {late:.2f} s at {(t - t0) / 1e9:.2f}s", file=sys.stderr)
    print(f"FIGURE calls_survived_pct {100 * survived / args.calls:.1f} %")
    print(f"FIGURE frames_lost_pct {100 * lost / max(1, counted):.2f} %")
    print(f"FIGURE resume_ms_p95 {percentile(resume, 95):.1f} ms")
    print(f"# t0 (unix) {t0 / 1e9:.2f}; frame delivery p50 {percentile(delays, 50):.0f} ms, "
          f"p95 {percentile(delays, 95):.0f} ms, max {max(delays, default=0):.0f} ms", file=sys.stderr)
    print(f"# calls {args.calls}, minutes {args.minutes}, rate {args.rate}, frames counted {counted}, "
          f"reconnects {len(resume)}, resume p50 {percentile(resume, 50):.1f} ms", file=sys.stderr)
    return 0 if survived == args.calls else 1


if __name__ == "__main__":
    raise SystemExit(main())
