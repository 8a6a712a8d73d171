"""Benchmark of large avatar uploads through a real Daphne over HTTP: time and server memory.

    python -m bench.upload [--skip-parallel] [--skip-s3]

Prints:
    FIGURE upload_200mb_ms <ms> ms                              one 200 MB multipart upload, 201 received
    FIGURE upload_200mb_peak_rss_mb <MB> MB                     server RSS growth during it (goal < 64)
    FIGURE upload_4x200mb_peak_rss_mb <MB> MB                   four at once, four owners (goal < 128)
    FIGURE upload_s3_presigned_200mb_ms <ms> ms                 ask for a URL, POST to the bucket, confirm
    FIGURE upload_s3_presigned_200mb_peak_rss_mb <MB> MB        server RSS growth during that flow

The file is the Godette fixture with a large valid PNG texture, just under the 200 MB plan
limit (bench.vrm_ingest.build_big_vrm), so the upload is accepted and fully processed (parse,
normalize, thumbnail, hash + encrypt, store). Each scenario gets a fresh Daphne (so RSS left
over from one does not hide the next), warmed with one small upload; RSS growth = the highest
RSS psutil saw (sampled every 10 ms) minus the RSS right before the upload. The S3 scenario runs
against moto's S3 server (a real S3 HTTP endpoint) in this process; its memory is not counted.
Throw-away SQLite database, media folder and Redis (bench.servers.bench_environment).
"""
from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import threading
from pathlib import Path

from bench.http_upload import RssSampler, UploadResult, post_form_to_bucket, post_multipart_file
from bench.servers import Server, bench_environment, server_env, start_daphne, stop
from bench.vrm_ingest import GODETTE, build_big_vrm

BUCKET = "bench-avatars"
_serial = itertools.count()


def log(text: str) -> None:
    print(f"# {text}", file=sys.stderr, flush=True)


def make_tokens(count: int) -> list[str]:
    from accounts.models import User
    from accounts.services import create_api_token

    tokens = []
    for _ in range(count):
        user = User.objects.create_user(email=f"upload{next(_serial)}@example.com", password="bench-password-1")
        tokens.append(create_api_token(user=user, name="bench")[1])
    return tokens


def upload(server: Server, token: str, path: Path) -> UploadResult:
    result = post_multipart_file(f"{server.http_url}/api/avatars", path=path, filename="big.vrm",
                                 headers={"Authorization": f"Bearer {token}"})
    if result.status != 201:
        raise RuntimeError(f"upload answered {result.status}: {result.body[:500]!r}\n{server.log_text()[-3000:]}")
    return result


def warm(server: Server, token: str) -> None:
    upload(server, token, GODETTE)


def single(env: dict[str, str], tokens: list[str], big: Path) -> tuple[float, float]:
    server = start_daphne(env)
    try:
        warm(server, tokens[0])
        with RssSampler(server.proc.pid) as rss:
            result = upload(server, tokens[1], big)
        return result.ms, rss.peak_growth_mb
    finally:
        stop(server)


def parallel(env: dict[str, str], tokens: list[str], big: Path, count: int = 4) -> float:
    server = start_daphne(env)
    try:
        warm(server, tokens[0])
        errors: list[BaseException] = []

        def one(token: str) -> None:
            try:
                upload(server, token, big)
            except BaseException as exc:  # noqa: BLE001 - reported after the join
                errors.append(exc)

        threads = [threading.Thread(target=one, args=(t,)) for t in tokens[1 : 1 + count]]
        with RssSampler(server.proc.pid) as rss:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        if errors:
            raise errors[0]
        return rss.peak_growth_mb
    finally:
        stop(server)


def presigned(env: dict[str, str], tokens: list[str], big: Path) -> tuple[float, float]:
    """The direct-to-bucket flow against moto's S3 server."""
    import requests

    from bench.s3_server import moto_s3

    with moto_s3(BUCKET) as s3:
        server = start_daphne({**env, **s3.env})
        try:
            def flow(token: str, path: Path) -> float:
                auth = {"Authorization": f"Bearer {token}"}
                ticket = requests.post(f"{server.http_url}/api/avatars/uploads", json={"filename": "big.vrm", "size": path.stat().st_size},
                                       headers=auth, timeout=30)
                if ticket.status_code != 201:
                    raise RuntimeError(f"upload ticket answered {ticket.status_code}: {ticket.text[:500]}")
                data = ticket.json()
                sent = post_form_to_bucket(data["url"], form=data["fields"], path=path)
                if sent.status not in (200, 201, 204):
                    raise RuntimeError(f"bucket answered {sent.status}: {sent.body[:500]!r}")
                done = requests.post(f"{server.http_url}/api/avatars/uploads/{data['id']}/complete", json={}, headers=auth, timeout=600)
                if done.status_code != 201:
                    raise RuntimeError(f"complete answered {done.status_code}: {done.text[:500]}\n{server.log_text()[-3000:]}")
                return sent.ms

            flow(tokens[0], GODETTE)
            import time

            start = time.perf_counter()
            with RssSampler(server.proc.pid) as rss:
                flow(tokens[1], big)
            return (time.perf_counter() - start) * 1000, rss.peak_growth_mb
        finally:
            stop(server)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-local", action="store_true", help="only the S3 presigned path")
    parser.add_argument("--skip-parallel", action="store_true")
    parser.add_argument("--skip-s3", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-upload-files-") as tmp, bench_environment(prefix="upload"):
        big = Path(tmp) / "big.vrm"
        build_big_vrm(big)
        log(f"file: {big.stat().st_size} bytes")
        env = server_env()
        tokens = make_tokens(6)
        if not args.skip_local:
            ms, growth = single(env, tokens[:2], big)
            print(f"FIGURE upload_200mb_ms {ms:.0f} ms", flush=True)
            print(f"FIGURE upload_200mb_peak_rss_mb {growth:.1f} MB", flush=True)
        if not (args.skip_parallel or args.skip_local):
            growth4 = parallel(env, make_tokens(5), big)
            print(f"FIGURE upload_4x200mb_peak_rss_mb {growth4:.1f} MB", flush=True)
        if not args.skip_s3:
            s3_ms, s3_growth = presigned(env, make_tokens(2), big)
            print(f"FIGURE upload_s3_presigned_200mb_ms {s3_ms:.0f} ms", flush=True)
            print(f"FIGURE upload_s3_presigned_200mb_peak_rss_mb {s3_growth:.1f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
