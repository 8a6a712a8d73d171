"""The strict Content-Security-Policy in real Chromium: every main page loads with no CSP violation
(no `securitypolicyviolation` event, no "Content Security Policy" console error, in the page or
its workers), and the call page's Web Worker and MediaPipe WebAssembly still track a face."""
from __future__ import annotations

from pathlib import Path

import pytest

from . import harness

EMAIL = "csp@example.com"

# Recorded before any page script runs, on every document the context opens.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture(scope="module")
def seeded(af_server):
    af_server.create_users([EMAIL])
    actor = af_server.create_vrm_actor(EMAIL)
    face = harness.FACE_MJPEG.resolve()
    info = af_server.manage_python(
        "import json\n"
        "from accounts.models import User\n"
        "from characters.models import Character\n"
        "from chat import services as chat\n"
        "from generation import services as gen\n"
        "from generation.serializers import clean_options\n"
        "from generation.models import GenerationJob\n"
        f"u = User.objects.get(email={EMAIL!r})\n"
        "c = Character.objects.filter(owner=u).first() or Character.objects.create(owner=u, name='Mina', first_message='Hi!', builtin_avatar='cat')\n"
        "conv = chat.create_conversation(user=u, character_id=c.pk)\n"
        f"data = open({str(face)!r}, 'rb').read()\n"
        "start = data.index(b'\\xff\\xd8'); end = data.index(b'\\xff\\xd9', start) + 2\n"
        "gen.enqueue = lambda job_id: None  # no worker here: the page shows a queued job\n"
        "job = GenerationJob.objects.filter(owner=u).first() or gen.create_job(owner=u, photo=data[start:end], filename='face.jpg', options=clean_options({}))\n"
        "print(json.dumps({'character': str(c.pk), 'conversation': str(conv.pk), 'job': str(job.id)}))\n"
    )
    return {**info, **actor}


def _pages(base: str, seeded: dict, room: str) -> list[str]:
    return [
        f"{base}/",
        f"{base}/avatars/",
        f"{base}/avatars/{seeded['avatar']}/",
        f"{base}/avatars/actors/",
        f"{base}/avatars/actors/{seeded['actor']}/",
        f"{base}/characters/",
        f"{base}/characters/{seeded['character']}/",
        f"{base}/characters/new/",
        f"{base}/chat/",
        f"{base}/chat/{seeded['conversation']}/",
        f"{base}/rooms/",
        f"{base}/rooms/{room}/lobby/",
        f"{base}/rooms/stream/",
        f"{base}/generate/",
        f"{base}/generate/{seeded['job']}/",
        f"{base}/accounts/profile/",
        f"{base}/api/docs/",
    ]


def test_every_main_page_loads_without_a_csp_violation(af_server, seeded, new_context):
    context = new_context()
    context.add_init_script(RECORD_VIOLATIONS)
    page = harness.login(context, af_server.base_url, EMAIL)
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{page.url}: {m.text}") if "Content Security Policy" in m.text else None)
    room = harness.create_room(page, af_server.base_url, title="CSP")
    found: dict[str, list[str]] = {}
    for url in _pages(af_server.base_url, seeded, room):
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        directives = dict(
            (part.split()[0], part.split()[1:]) for part in response.headers["content-security-policy"].split(";")
        )
        script_src = directives["script-src"]
        assert "'self'" in script_src and "'unsafe-eval'" not in script_src and "'unsafe-inline'" not in script_src
        page.wait_for_load_state("networkidle")
        violations = page.evaluate("window.__cspViolations")
        if violations:
            found[url] = violations
    assert found == {}
    assert console == []


def test_call_page_worker_and_wasm_track_under_the_policy(af_server, seeded, new_context):
    context = new_context()
    context.add_init_script(RECORD_VIOLATIONS)
    page = harness.login(context, af_server.base_url, EMAIL)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    workers: list[str] = []
    page.on("worker", lambda w: workers.append(w.url))
    room = harness.create_room(page, af_server.base_url, title="CSP call")
    harness.enter_call(page, af_server.base_url, room)
    # The face worker loaded MediaPipe's WASM and reports faces from the fake camera.
    page.wait_for_function("() => window.__afStats.trackingFaces > 0", timeout=60_000)
    assert any(Path(url).name == "face_worker.js" for url in workers), workers
    assert page.evaluate("window.__cspViolations") == []
    assert console == []
