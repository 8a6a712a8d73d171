"""The OpenAPI schema (drf-spectacular, from the serializers in `extend_schema(responses=...)`) and
what the endpoints really return must not drift apart: every key a response carries is documented,
and every key the schema requires is there, at every nesting level the schema describes.

Each documented JSON success response of the apps in COVERED_PREFIXES is requested here for real; a new
documented response under those prefixes fails the test until `requests_made` requests it (or
NOT_REQUESTED says why not).
"""
from __future__ import annotations

import re
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

COVERED_PREFIXES = ("/api/generate/", "/api/style/", "/api/rooms/")
NOT_REQUESTED = {
    ("POST", "/api/rooms/{code}/practice", "202"): "starts a practice peer process (tests/rooms/test_api.py)",
}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def shape_problems(schema: dict[str, Any], node: dict[str, Any], value: Any, where: str = "$") -> list[str]:
    """Where `value` does not have the documented shape `node` (an OpenAPI 3.0 schema object)."""
    node = _resolve(schema, node)
    if value is None:
        return [] if node.get("nullable") else [f"{where}: null, but not nullable"]
    for combinator in ("allOf", "oneOf"):  # a nullable nested serializer: allOf [ref] + nullable
        if len(node.get(combinator, [])) == 1:
            return shape_problems(schema, node[combinator][0], value, where)
    if node.get("type") == "array" and "items" in node:
        if not isinstance(value, list):
            return [f"{where}: {type(value).__name__}, documented as an array"]
        return [p for i, item in enumerate(value) for p in shape_problems(schema, node["items"], item, f"{where}[{i}]")]
    if "properties" in node:
        if not isinstance(value, dict):
            return [f"{where}: {type(value).__name__}, documented as an object"]
        documented, actual = set(node["properties"]), set(value)
        problems = [f"{where}.{key}: returned but not documented" for key in sorted(actual - documented)]
        problems += [f"{where}.{key}: documented as required but missing" for key in sorted(set(node.get("required", [])) - actual)]
        for key in sorted(actual & documented):
            problems += shape_problems(schema, node["properties"][key], value[key], f"{where}.{key}")
        return problems
    return []


def documented(schema: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any]:
    response = schema["paths"][path][method.lower()]["responses"][str(status)]
    return response["content"]["application/json"]["schema"]


def _template(url: str, schema: dict[str, Any]) -> str:
    """The schema path a concrete URL belongs to."""
    for path in sorted(schema["paths"], key=lambda p: p.count("{")):  # literal paths before templates
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"
        if re.match(pattern, url.split("?")[0]):
            return path
    raise AssertionError(f"{url} is not in the schema")


@pytest.fixture
def requests_made(studio_user_client, face_jpeg, monkeypatch) -> list[tuple[str, str, int, Any]]:
    """(method, url, status, body) of a real request to every documented JSON response."""
    from generation import services as generation_services
    from generation.models import GenerationJob, JobStatus
    from generation.style import services as style_services
    from tests.generation.conftest import create_job, run

    monkeypatch.setattr(generation_services, "enqueue", lambda job_id: None)  # jobs run inline below
    monkeypatch.setattr(style_services, "enqueue", lambda job_id: None)

    client, owner = studio_user_client
    done: list[tuple[str, str, int, Any]] = []

    def call(method: str, url: str, status: int, data: Any = None, fmt: str | None = "json", as_client: APIClient = client) -> Any:
        response = getattr(as_client, method.lower())(url, data, format=fmt) if data is not None else getattr(as_client, method.lower())(url)
        assert response.status_code == status, (method, url, response.status_code, response.content[:300])
        body = response.json()
        done.append((method, url, status, body))
        return body

    # Generation: a finished job (stages, previews, avatar), a failed one (error), a queued one.
    finished = create_job(owner, face_jpeg, name="Shapes")
    assert run(finished) == "succeeded"
    created = call("POST", "/api/generate/", 202, {"image": _upload(face_jpeg)}, fmt="multipart")
    call("GET", "/api/generate/", 200)
    call("GET", "/api/generate/options", 200)
    for job_id in (finished.id, created["job_id"]):
        call("GET", f"/api/generate/status/{job_id}", 200)
        call("GET", f"/api/generate/{job_id}", 200)
    call("POST", f"/api/generate/{created['job_id']}/cancel", 200, {})
    call("POST", f"/api/generate/{created['job_id']}/retry", 202, {})
    call("POST", f"/api/generate/{finished.id}/recrop", 202, {"crop": {"x": 0.5, "y": 0.4, "size": 0.5}})
    call("GET", f"/api/generate/{finished.id}/params", 200)
    call("PUT", f"/api/generate/{finished.id}/params", 202, {"params": {"hair_style": "bob"}})
    failed = create_job(owner, face_jpeg, name="Broken")
    GenerationJob.objects.filter(pk=failed.pk).update(
        status=JobStatus.FAILED, stage="rig", error_code="rig_unavailable", error_message="down", error_details={"try": 1})
    call("GET", f"/api/generate/status/{failed.id}", 200)
    actor = call("POST", f"/api/generate/{finished.id}/actor", 201, {})
    call("POST", f"/api/generate/{finished.id}/actor", 200, {"replace_actor": actor["actor"]["id"]})

    # Style transfer: a finished portrait job and a queued one cancelled and retried.
    from generation.style.run import run_style_job

    portrait = call("POST", "/api/style/transform", 202, {"image": _upload(face_jpeg), "style_preset": "anime", "strength": "0.5"},
                    fmt="multipart")
    assert run_style_job(job_id=portrait["job_id"]) == "succeeded"
    call("GET", portrait["status_url"], 200)
    queued = call("POST", "/api/style/transform", 202, {"image": _upload(face_jpeg), "style_preset": "chibi"}, fmt="multipart")
    call("GET", queued["status_url"], 200)
    call("POST", f"/api/style/{queued['job_id']}/cancel", 200, {})
    call("POST", f"/api/style/{queued['job_id']}/retry", 202, {})

    # Rooms.
    room = call("POST", "/api/rooms/", 201, {"title": "Shapes"})
    call("GET", "/api/rooms/", 200)
    call("GET", f"/api/rooms/{room['code']}/", 200)
    call("GET", f"/api/rooms/{room['code']}/ice-servers", 200)
    invite = call("POST", f"/api/rooms/{room['code']}/invites", 201, {})
    call("POST", "/api/rooms/invites/redeem", 200, {"token": invite["token"], "name": "Guest"}, as_client=APIClient())
    call("POST", f"/api/rooms/{room['code']}/close", 200, {})
    return done


def _upload(data: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("face.jpg", data, content_type="image/jpeg")


@pytest.fixture
def studio_user_client(make_user) -> tuple[APIClient, Any]:
    owner = make_user("shapes@example.com", plan="studio")
    client = APIClient()
    client.force_authenticate(owner)
    return client, owner


@pytest.fixture
def face_jpeg() -> bytes:
    from tests.generation.conftest import FIXTURES, mjpeg_frames

    return mjpeg_frames(FIXTURES / "camera" / "face.mjpeg", limit=1)[0]


def test_responses_have_the_documented_shapes_and_all_are_checked(schema, requests_made):
    problems = []
    for method, url, status, body in requests_made:
        path = _template(url, schema)
        problems += [f"{method} {url} {status} {p}" for p in shape_problems(schema, documented(schema, method, path, status), body)]
    assert problems == [], "\n".join(problems)
    # Every documented response under COVERED_PREFIXES was requested above (one test: one pipeline run).
    checked = {(method, _template(url, schema), str(status)) for method, url, status, _body in requests_made}
    wanted = {
        (method.upper(), path, code)
        for path, operations in schema["paths"].items() if path.startswith(COVERED_PREFIXES)
        for method, operation in operations.items()
        for code, response in operation.get("responses", {}).items()
        # Error responses share one documented envelope (avatarforge/openapi.py), which
        # tests/platform/test_openapi_live.py checks against every operation; here: the successes.
        if code.startswith("2") and "application/json" in response.get("content", {})
    }
    assert sorted(wanted - checked - set(NOT_REQUESTED)) == []


def test_the_checker_catches_a_drifted_payload(schema):
    """A key added to the payload but not the serializer, or one dropped, is reported."""
    node = documented(schema, "GET", "/api/generate/status/{job_id}", 200)
    fields = set(_resolve(schema, node)["properties"])
    assert "retries" in fields
    drifted = {key: None for key in fields - {"job_id"}} | {"undocumented": 1}
    problems = shape_problems(schema, node, drifted)
    assert "$.undocumented: returned but not documented" in problems
    assert "$.job_id: documented as required but missing" in problems
