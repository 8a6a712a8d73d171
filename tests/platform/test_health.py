"""GET /api/health reports every component; a broken core component answers 503."""
from __future__ import annotations

import pytest
from channels.layers import channel_layers

from avatarforge import health

pytestmark = pytest.mark.django_db


def test_health_reports_components(client):
    response = client.get("/api/health")
    body = response.json()
    assert {"database", "channel_layer", "storage", "worker"} <= set(body["components"])
    for name in ("database", "channel_layer", "storage"):
        component = body["components"][name]
        assert component["status"] == "ok", component
        assert component["core"] is True
        assert component["latency_ms"] >= 0
    assert response.status_code == 200
    assert body["status"] == "ok"


@pytest.fixture
def broken_channel_layer(settings):
    """A Redis channel layer pointing at a closed port: a real failure, not a mock."""
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}
    }
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def test_broken_core_component_gives_503(client, broken_channel_layer):
    response = client.get("/api/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["components"]["channel_layer"]["status"] == "error"
    assert body["components"]["channel_layer"]["detail"]
    assert body["components"]["database"]["status"] == "ok"


def test_broken_storage_gives_503(client, settings, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = blocker
    response = client.get("/api/health")
    assert response.status_code == 503
    assert response.json()["components"]["storage"]["status"] == "error"


def test_non_core_failure_keeps_200(client, monkeypatch):
    def fail() -> None:
        raise RuntimeError("model server down")

    monkeypatch.setitem(health._checks, "extra", health.Check(name="extra", run=fail, core=False))
    response = client.get("/api/health")
    assert response.json()["components"]["extra"]["status"] == "error"
    assert response.status_code == 200
