"""Benchmark of the CPU avatar generation pipeline (photo -> rigged VRM 1.0 in the library).

    python -m bench.generation [--runs N] [--keep] [--profile FILE]

The photo is scikit-image's astronaut (NASA, public domain): the first frame of
../shared/fixtures/camera/face.mjpeg. Each run is a real job (generation.services.create_job, then
generation.pipeline.run_job inline, as the worker runs it): database writes, stored artifacts,
the Node validation and the avatar library included. A throw-away SQLite database and media
folder in a temporary directory are made and migrated first; one warm-up run is not counted.

Prints (medians of N runs):
    FIGURE total_ms <n> ms                 wall time of the whole job (goal < 5000 on 2 cores)
    FIGURE stage_<name>_ms <n> ms          each stage: ingest, detect, stylize, palette, body, rig,
                                           export, validate, register
    FIGURE params_ms <n> ms                photo reading: face mesh (detect) + estimates (palette)
    FIGURE export_ms <n> ms                writing the VRM file and its thumbnail (the export stage)
    FIGURE vrm_bytes <n> bytes             size of the generated .vrm
    FIGURE validator_errors <n> errors     Khronos glTF validator (goal 0)
    FIGURE validator_warnings <n> warnings (goal 0)
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

from bench.isolated import isolated_project, run_worker

ROOT = Path(__file__).resolve().parent.parent
FACE_MJPEG = ROOT.parent / "shared" / "fixtures" / "camera" / "face.mjpeg"


def astronaut_jpeg() -> bytes:
    data = FACE_MJPEG.read_bytes()
    start = data.find(b"\xff\xd8")
    return data[start : data.find(b"\xff\xd9", start) + 2]


def worker(runs: int, profile: str = "") -> None:
    """Runs inside the measuring subprocess; prints one JSON line."""
    import time

    import django

    django.setup()
    from accounts.models import Plan, User
    from generation import services
    from generation.pipeline import run_job
    from generation.serializers import clean_options

    services.enqueue = lambda job_id: None  # the job runs right here, not in a worker process
    photo = astronaut_jpeg()
    plan = Plan.objects.order_by("-generation_jobs_per_day").first()
    results = []
    for i in range(runs + 1):
        user = User.objects.create_user(email=f"bench{i}@example.com", password="bench-password-1", plan=plan)
        job = services.create_job(owner=user, photo=photo, filename="astronaut.jpg", options=clean_options({"name": "Astronaut"}))
        profiler = None
        if profile and i == runs:  # the last run, warm like the others
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        start = time.perf_counter()
        outcome = run_job(job_id=str(job.id))
        total = (time.perf_counter() - start) * 1000
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        job.refresh_from_db()
        if outcome != "succeeded":
            raise SystemExit(f"job {outcome}: {job.error_code} {job.error_message} {job.error_details}")
        stages = {s.name: s for s in job.stages.all()}
        validator = stages["validate"].data["validator"]
        results.append({
            "total_ms": total,
            "stages": {name: s.duration_ms for name, s in stages.items()},
            "vrm_bytes": stages["export"].data["bytes"],
            "errors": validator["errors"],
            "warnings": validator["warnings"],
        })
    print(json.dumps(results[1:]))  # the first run warmed imports, cascades and Node's cache


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--profile", default="", help="write cProfile stats of the last run to this file (read with pstats)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.runs, args.profile)
        return

    with isolated_project("generation", keep=args.keep) as (_workdir, env):
        profile = ["--profile", str(Path(args.profile).resolve())] if args.profile else []
        runs = run_worker(["-m", "bench.generation", "--worker", "--runs", str(max(1, args.runs)), *profile], env)
    print(f"# {len(runs)} runs on {os.cpu_count()} cores; medians", file=sys.stderr)
    print(f"FIGURE total_ms {statistics.median(r['total_ms'] for r in runs):.0f} ms")
    for name in runs[0]["stages"]:
        print(f"FIGURE stage_{name}_ms {statistics.median(r['stages'][name] for r in runs):.0f} ms")
    print(f"FIGURE params_ms {statistics.median(r['stages']['detect'] + r['stages']['palette'] for r in runs):.0f} ms")
    print(f"FIGURE export_ms {statistics.median(r['stages']['export'] for r in runs):.0f} ms")
    print(f"FIGURE vrm_bytes {int(statistics.median(r['vrm_bytes'] for r in runs))} bytes")
    print(f"FIGURE validator_errors {max(r['errors'] for r in runs)} errors")
    print(f"FIGURE validator_warnings {max(r['warnings'] for r in runs)} warnings")


if __name__ == "__main__":
    main()
