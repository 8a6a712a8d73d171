"""The OpenAPI schema is the contract of mobile and third-party clients, so it is checked two ways:

- `openapi-spec-validator` (PyPI) reads the generated document as a valid OpenAPI 3.0 schema;
- `schemathesis` (PyPI), a property-based API tester, sends generated valid and invalid requests to
  every operation of a REAL Daphne (its own database, global throttles raised through the
  environment, a user with an API token) and fails on any 5xx, any response whose body does not
  match the documented schema, any status code or content type the operation does not document.

The run is bounded and reproducible: a fixed seed, few examples per operation, no shrinking.
"""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator
from openapi_spec_validator import validate

from tests.browser.harness import LiveServer
from tests.support.fake_openai import FakeOpenAI, Reply

pytestmark = pytest.mark.slow

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
MAX_EXAMPLES = 12
SEED = 20261201
TOKEN_DETAIL = "/api/accounts/tokens/{token_id}"
# Calling a character needs a voice worker, and this server has none: it answers the documented
# 503 `no_voice_worker`, which is checked for conformance but is not a server fault here.
CHARACTER_CALL = "/api/characters/{character_id}/call"


def _wizard_sheet(language: str) -> dict[str, str]:
    """A usable sheet in the language the wizard asked for (it refuses one in another language)."""
    from characters.personas import wizard

    if language == "ko":
        values = {name: f"{name.replace('_', ' ')}에 대한 자세한 한국어 설명입니다" for name in wizard.GENERATED_FIELDS}
        return values | {"gender": "여성", "species": "인간", "job": "학생", "scenario_counterpart": "새 친구",
                         "first_message": "안녕하세요 {{user}}님, 저는 {{char}}예요."}
    return {name: f"{name} text" for name in wizard.GENERATED_FIELDS} | {"first_message": "Hello {{user}}."}


def _answer(body: dict) -> Reply:
    asked_korean = "Korean (한국어)" in json.dumps(body.get("messages"), ensure_ascii=False)
    return Reply(json.dumps(_wizard_sheet("ko" if asked_korean else "en"), ensure_ascii=False))


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    # Chat and the character wizard talk to a language model: a local server speaking the OpenAI
    # wire protocol answers every request with a valid character sheet (JSON text).
    llm = FakeOpenAI().start()
    llm.responder = _answer
    server = LiveServer(tmp_path_factory.mktemp("openapi-live"))
    server.env["LLM_MODELS"] = json.dumps([llm.model_config("fake")])
    if server.database_url.startswith("postgres"):  # not the browser tests' live database
        server.database_url = server.env["DATABASE_URL"] = server.database_url + "_openapi"
    # The global rates would turn most generated requests into 429s; the scoped ones stay as set.
    server.env.update(THROTTLE_ANON="100000/min", THROTTLE_USER="100000/min")
    server.start()
    token = server.manage_python(
        "import json\n"
        "from accounts.models import Plan, User\n"
        "from accounts.services import create_api_token\n"
        "u = User.objects.create_user(email='openapi@example.com', password='correct-horse-battery-9', plan=Plan.objects.get(code='studio'))\n"
        "print(json.dumps({'token': create_api_token(user=u, name='openapi')[1]}))\n"
    )["token"]
    yield server, token
    server.stop()
    llm.stop()


def test_the_generated_schema_is_valid_openapi(db):
    schema = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
    validate(schema)  # raises OpenAPIValidationError with the offending path


def test_the_served_schema_is_valid_openapi(live):
    server, _token = live
    with urllib.request.urlopen(f"{server.base_url}/api/schema/?format=json", timeout=30) as response:
        validate(json.loads(response.read()))


def _schemathesis(server: LiveServer, token: str, workdir: Path, *selection: str, checks: str = CHECKS) -> None:
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{server.base_url}/api/schema/?format=json",
        "--url", server.base_url,
        "--checks", checks,
        "--phases", "examples,fuzzing",
        "--mode", "all",  # valid and invalid requests
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", str(SEED),
        "--no-shrink",
        "--workers", "2",
        "--request-timeout", "60",
        "--suppress-health-check", "all",
        "--header", f"Authorization: Bearer {token}",
        *selection,
    ]  # fmt: skip
    run = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=900)
    output = run.stdout + run.stderr
    failures = output[output.find("FAILURES"):output.find("SUMMARY")] if "FAILURES" in output else output[-6000:]
    assert run.returncode == 0, failures[:30000] + "\n--- server log ---\n" + server.log_path.read_text()[-3000:]
    assert "Selected: 0/" not in output


@pytest.mark.timeout(1800)  # two schemathesis runs, each bounded by its own 900 s subprocess timeout
def test_every_operation_keeps_the_contract_under_generated_requests(live, tmp_path: Path):
    server, token = live
    # Deleting API tokens by a guessed id can delete the run's own token: that one operation runs last.
    _schemathesis(server, token, tmp_path, "--exclude-path", TOKEN_DETAIL, "--exclude-path", CHARACTER_CALL)
    _schemathesis(server, token, tmp_path, "--include-path", CHARACTER_CALL,
                  checks=CHECKS.replace("not_a_server_error,", ""))
    _schemathesis(server, token, tmp_path, "--include-path", TOKEN_DETAIL)
