"""System API authorization, validation and errors; health and routing from the host registry."""
from __future__ import annotations

import json
import time
import uuid

import pytest
from rest_framework.test import APIClient

from inference.gpu.client import generation_queue
from inference.gpu.conf import SERVICE_NAMES

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(make_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(make_user("root@example.com", is_staff=True))
    return client


@pytest.fixture
def registry(gpu_store):
    """Heartbeat snapshots written as the worker writes them; removed afterwards."""
    written: list[str] = []
    suffix = uuid.uuid4().hex[:6]
    publish_names: dict[str, str] = {}

    def publish(name: str, *, age_s: float = 0.0, mode: str = "chat", **fields) -> None:
        host = f"{name}-{suffix}"
        snapshot = {
            "host": host, "gpu_index": 0, "worker": "w", "mode": mode, "switching_enabled": True,
            "modes": {"chat": ["llm"], "tts": ["tts"], "gen3d": ["gen3d"]}, "mode_vram_mb": {},
            "services": {"llm": "healthy", "tts": "sleeping", "gen3d": "sleeping"}, "active_services": ["llm"],
            "vram": {"used_mb": 18000, "total_mb": 24576, "usage_percent": 73.2}, "restarts": {},
            "heartbeat_interval": 1.0, "lease_ttl": 60, "pending": 0, **fields,
        }
        gpu_store.publish(host, snapshot)
        if age_s:
            snapshot["at"] = time.time() - age_s
            gpu_store.r.hset("gpu:hosts", host, json.dumps(snapshot))
        written.append(host)
        publish_names[name] = host

    publish.names = publish_names
    yield publish
    for host in written:
        gpu_store.forget_host(host)


@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/api/system/mode", {"mode": "tts"}),
    ("post", "/api/system/mode", {"mode": "nonsense"}),  # authorization comes before validation
    ("get", "/api/system/vram", None),
])
def test_anonymous_gets_401_and_members_403(api_client, anon_api_client, method, path, body):
    anon = getattr(anon_api_client, method)(path, body, format="json")
    assert anon.status_code == 401 and anon.json()["code"] == "not_authenticated"
    member = getattr(api_client, method)(path, body, format="json")
    assert member.status_code == 403 and member.json()["code"] == "permission_denied"


def test_an_unknown_mode_is_400(staff_client):
    response = staff_client.post("/api/system/mode", {"mode": "turbo"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "mode" in response.json()["details"]


def test_a_bad_host_name_is_400(staff_client):
    response = staff_client.post("/api/system/mode", {"mode": "tts", "host": "../etc"}, format="json")
    assert response.status_code == 400 and "host" in response.json()["details"]


def test_no_gpu_host_up_is_503(staff_client, registry, redis_url):
    registry("gone", age_s=3600)  # a worker that stopped long ago
    gone = registry.names["gone"]
    response = staff_client.post("/api/system/mode", {"mode": "tts", "host": gone}, format="json")
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable" and response.json()["details"]["host"] == gone


def test_vram_lists_each_host_with_liveness(staff_client, registry, redis_url):
    registry("box-a")
    registry("box-b", age_s=3600, vram=None)
    rows = {h["host"]: h for h in staff_client.get("/api/system/vram").json()["hosts"]}
    a, b = rows[registry.names["box-a"]], rows[registry.names["box-b"]]
    assert (a["used_mb"], a["total_mb"], a["usage_percent"], a["active_services"], a["alive"]) == (18000, 24576, 73.2, ["llm"], True)
    assert b["alive"] is False and b["used_mb"] is None


def test_health_reports_services_per_host_and_unknown_for_a_silent_host(anon_api_client, registry, redis_url):
    registry("box-a")
    registry("box-b", age_s=3600)
    gpu = anon_api_client.get("/api/health").json()["gpu"]
    assert gpu[registry.names["box-a"]] == {"llm": "healthy", "tts": "sleeping", "stt": "unknown", "gen3d": "sleeping", "style": "unknown"}
    assert gpu[registry.names["box-b"]] == {name: "unknown" for name in SERVICE_NAMES}


def test_generation_goes_to_the_gpu_only_while_a_host_serves_gen3d(registry, redis_url):
    assert generation_queue("gpu") == "default"  # CPU pipeline fallback
    assert generation_queue("default") == "default"
    registry("box-a", modes={"chat": ["llm"]})
    assert generation_queue("gpu") == "default"  # up, but no gen3d mode there
    registry("box-b")
    assert generation_queue("gpu") == "gpu"


def test_admin_page_is_staff_only(client, make_user, password):
    member = make_user("member@example.com")
    client.force_login(member)
    assert client.get("/admin/gpu/").status_code == 302  # to the admin login
    client.logout()
    staff = make_user("boss@example.com", is_staff=True)
    client.force_login(staff)
    page = client.get("/admin/gpu/")
    assert page.status_code == 200 and "GPU hosts" in page.content.decode()


def test_the_system_api_is_in_the_openapi_schema(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    assert "post" in schema["paths"]["/api/system/mode"] and "get" in schema["paths"]["/api/system/vram"]


def test_without_redis_there_are_no_gpu_hosts_and_a_mode_request_is_503(staff_client, settings):
    settings.REDIS_URL = ""  # the embedded install
    assert staff_client.get("/api/system/vram").json() == {"hosts": []}
    response = staff_client.post("/api/system/mode", {"mode": "chat"}, format="json")
    assert response.status_code == 503 and response.json()["code"] == "service_unavailable"
