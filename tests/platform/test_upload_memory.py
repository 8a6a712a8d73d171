"""Uploads through a real server process (avatarforge.http_server, the Daphne runner every start
path uses), over HTTP: the server's memory must not grow with the size of the body, and an
oversized body is refused with 413 in the error family before it is received.

The bound: the server streams a body in 64 KB pieces, Django spools it to disk, and the avatar
service hashes/encrypts in 1 MB chunks, so the growth is a fixed working set (measured: ~9 MB
for a 200 MB upload). FILE_MB is chosen so that even ONE in-memory copy of the file breaks
BOUND_MB; stock Daphne needed ~13 copies (a 50 MB upload took ~650 MB).
"""
from __future__ import annotations

import json
import select
import socket
import time
from pathlib import Path

import pytest

from bench.http_upload import RssSampler, post_multipart_file
from bench.servers import daphne_servers
from bench.vrm_ingest import build_big_vrm

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

FILE_MB = 48
BOUND_MB = 24


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with daphne_servers(1) as (started,):
        yield started


@pytest.fixture
def token(make_user):
    from accounts.services import create_api_token

    return create_api_token(user=make_user(), name="memory test")[1]


def test_a_large_upload_does_not_grow_server_memory_with_its_size(server, token, tmp_path):
    big = tmp_path / "big.vrm"
    size = build_big_vrm(big, target=FILE_MB * 2**20)
    assert size > FILE_MB * 2**20 - 2**20
    auth = {"Authorization": f"Bearer {token}"}
    small = post_multipart_file(f"{server.http_url}/api/avatars", path=Path(__file__).parent / "urls_boom.py",
                                filename="warm.vrm", headers=auth)
    assert small.status == 400  # warm-up through the whole stack (not a GLB)
    time.sleep(0.5)
    with RssSampler(server.proc.pid) as rss:
        result = post_multipart_file(f"{server.http_url}/api/avatars", path=big, filename="big.vrm", headers=auth)
    assert result.status == 201, result.body[:500]
    assert result.json()["file_size"] == size
    assert rss.peak_growth_mb < BOUND_MB, f"server RSS grew {rss.peak_growth_mb:.1f} MB for a {size / 2**20:.0f} MB upload"


def _raw_request(server, head: bytes, body_pieces) -> tuple[int, dict]:
    """Send a request on a plain socket; stop sending as soon as an answer arrives."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head)
        received = b""
        for piece in body_pieces:
            if select.select([sock], [], [], 0)[0]:  # the server answered (early): stop sending
                received += sock.recv(65536)
                break
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status_line, _, rest = received.partition(b"\r\n")
            headers, sep, body = rest.partition(b"\r\n\r\n")
            if sep and status_line:
                length = int(next((h.split(b":")[1] for h in headers.split(b"\r\n") if h.lower().startswith(b"content-length")), b"0"))
                if len(body) >= length:
                    return int(status_line.split()[1]), json.loads(body[:length])
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    raise AssertionError(f"no complete answer: {received[:300]!r}")


def test_a_declared_oversized_body_is_refused_before_it_is_sent(server, settings):
    head = (b"POST /api/avatars HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            b"Content-Length: " + str(settings.MAX_REQUEST_BYTES + 1).encode() + b"\r\n\r\n")
    # Not one body byte is sent: stock Daphne waits for the whole body before answering anything.
    status, body = _raw_request(server, head, [])
    assert status == 413
    assert body["code"] == "payload_too_large" and body["details"] == {"max_bytes": settings.MAX_REQUEST_BYTES}


def test_a_chunked_body_is_refused_when_it_passes_the_limit_without_being_kept(server, settings):
    head = (b"POST /api/avatars HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    piece = b"%x\r\n" % 2**20 + b"\0" * 2**20 + b"\r\n"
    count = settings.MAX_REQUEST_BYTES // 2**20 + 8
    with RssSampler(server.proc.pid) as rss:
        status, body = _raw_request(server, head, [piece] * count)
    assert status == 413 and body["code"] == "payload_too_large"
    assert rss.peak_growth_mb < BOUND_MB
