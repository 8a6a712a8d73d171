"""MAX_REQUEST_BYTES holds for bodies without a Content-Length (chunked), counted as they arrive:
Django's ASGI handler would otherwise spool the whole stream to disk first."""
from __future__ import annotations

import asyncio

import pytest
from django.test import override_settings

from avatarforge.asgi import application

CHUNK = 64 * 1024


def _scope(headers):
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/api/rooms/invites/redeem", "raw_path": b"/api/rooms/invites/redeem", "query_string": b"",
        "root_path": "", "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
    }


async def _call(headers, chunks: int):
    pulled = 0
    sent = []

    async def receive():
        nonlocal pulled
        pulled += 1
        if pulled > chunks:
            await asyncio.Future()  # the client waits for the answer (Django cancels this)
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": pulled < chunks}

    async def send(message):
        sent.append(message)

    await application(_scope(headers), receive, send)
    return pulled, sent


@pytest.mark.django_db
@override_settings(MAX_REQUEST_BYTES=4 * CHUNK)
async def test_chunked_body_is_cut_off_at_the_ceiling():
    pulled, sent = await _call([(b"transfer-encoding", b"chunked")], chunks=1000)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    assert b"payload_too_large" in sent[1]["body"]
    assert pulled == 5  # stopped reading right after the ceiling, not after 1000 chunks


@pytest.mark.django_db
@override_settings(MAX_REQUEST_BYTES=4 * CHUNK)
async def test_small_chunked_body_still_reaches_django():
    pulled, sent = await _call([(b"transfer-encoding", b"chunked")], chunks=2)
    assert sent[0]["status"] != 413


@pytest.mark.django_db
@override_settings(MAX_REQUEST_BYTES=4 * CHUNK)
async def test_lying_content_length_is_cut_off_too():
    """A declared length over the ceiling is refused by the API middleware; a small declared length
    is trusted because the server itself delivers no more than it (HTTP framing)."""
    pulled, sent = await _call([(b"content-length", str(100 * CHUNK).encode())], chunks=1000)
    assert sent[0]["status"] == 413
    assert pulled <= 5
