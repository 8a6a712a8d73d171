"""Through a real Daphne: malformed form bodies reach Django and answer in the error family.

Twisted used to parse multipart bodies itself and answer a broken one (no boundary) with a bare
`400 Bad Request` and an empty body before our code ran (avatarforge/daphne_requests.py)."""
from __future__ import annotations

import http.client
import json
import re

import pytest

from tests.browser.harness import LiveServer

BROKEN = b"--x\r\n"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("daphne-bodies"))
    if server.database_url.startswith("postgres"):  # not the browser tests' live database
        server.database_url = server.env["DATABASE_URL"] = server.database_url + "_bodies"
    server.start()
    token = server.manage_python(
        "import json\n"
        "from accounts.models import Plan, User\n"
        "from accounts.services import create_api_token\n"
        "u = User.objects.create_user(email='bodies@example.com', password='correct-horse-battery-9', plan=Plan.objects.get(code='free'))\n"
        "print(json.dumps({'token': create_api_token(user=u, name='bodies')[1]}))\n"
    )["token"]
    yield server, token
    server.stop()


def _request(port: int, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize("path", ["/api/avatars", "/api/rooms/", "/api/generate/"])
def test_multipart_without_boundary_is_an_api_error(live, path):
    server, token = live
    status, headers, body = _request(
        server.port, "POST", path, BROKEN,
        {"Content-Type": "multipart/form-data", "Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert status == 400, body
    assert headers["content-type"] == "application/json"
    error = json.loads(body)
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == "parse_error" and "boundary" in error["message"]


def test_multipart_without_boundary_on_a_page_is_the_error_page(live):
    server, _token = live
    # A real browser session: the CSRF cookie and token from the login form.
    status, headers, page = _request(server.port, "GET", "/accounts/login/", b"", {})
    cookie = re.search(r"csrftoken=([^;]+)", headers["set-cookie"]).group(1)
    status, headers, body = _request(
        server.port, "POST", "/accounts/login/", BROKEN,
        {"Content-Type": "multipart/form-data", "Cookie": f"csrftoken={cookie}", "X-CSRFToken": cookie},
    )  # fmt: skip
    assert status == 400
    assert headers["content-type"].startswith("text/html")
    html = body.decode()
    assert 'data-error-code="invalid_form_data"' in html and "could not be read" in html
