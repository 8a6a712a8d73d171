"""GET /api/health is public: it must not hand out what failing components say about themselves."""
from __future__ import annotations

import pytest

from avatarforge import health

pytestmark = pytest.mark.django_db


def test_failure_detail_names_the_error_type_only(client, monkeypatch, caplog):
    def fail() -> None:
        raise RuntimeError('connection to server at "10.1.2.3", port 5432 failed: password for "af_admin" in /srv/app/.env')

    monkeypatch.setitem(health._checks, "extra", health.Check(name="extra", run=fail, core=False))
    with caplog.at_level("WARNING", logger="avatarforge.health"):
        response = client.get("/api/health")
    component = response.json()["components"]["extra"]
    assert component["status"] == "error"
    assert component["detail"] == "RuntimeError"
    body = response.content.decode()
    for secret in ("10.1.2.3", "af_admin", "/srv/app"):
        assert secret not in body
    # Operators still find the whole message in the log.
    assert "10.1.2.3" in caplog.text
