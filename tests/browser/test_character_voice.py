"""The character form's voice Preview in real Chromium: it speaks through POST /api/tts with the
chosen voice and speed and plays the clip; a voice that does not speak the chosen language gets
the API's error as text."""
from __future__ import annotations

import uuid

from . import harness


def test_preview_plays_the_chosen_voice_and_shows_errors(af_server, new_context, artifacts):
    email = f"voice-{uuid.uuid4().hex[:8]}@example.com"
    af_server.create_users([email])
    info = af_server.manage_python(
        "import json\n"
        "from accounts.models import User\n"
        "from characters.models import Character\n"
        f"c = Character.objects.create(owner=User.objects.get(email={email!r}), name='Mina', language='en')\n"
        "print(json.dumps({'id': str(c.pk)}))\n"
    )
    context = new_context()
    page = harness.login(context, af_server.base_url, email)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{af_server.base_url}/characters/{info['id']}/edit/")
    page.wait_for_function("() => window.__voicePreview !== undefined")
    page.select_option("[data-voice-select]", "en-joe")
    page.fill("[data-voice-speed]", "1.5")
    with page.expect_response(lambda r: r.url.endswith("/api/tts") and r.request.method == "POST") as caught:
        page.click("[data-voice-preview]")
    response = caught.value
    assert response.status == 200, response.text()
    sent = response.request.post_data_json
    assert sent["voice_id"] == "en-joe" and sent["speed"] == 1.5 and sent["language"] == "en"
    # The clip plays to its end in the page.
    page.wait_for_function("() => { const a = document.querySelector('[data-voice-preview-audio]'); "
                           "return a.src.includes('/api/tts/') && a.ended; }", timeout=60_000)
    assert page.evaluate("() => document.querySelector('[data-voice-preview-audio]').duration") > 0.5
    page.screenshot(path=str(artifacts / "character_voice_preview.png"), full_page=True)

    page.select_option("[data-voice-select]", "ko-robot")  # speaks Korean; the form says English
    with page.expect_response(lambda r: r.url.endswith("/api/tts") and r.request.method == "POST") as caught:
        page.click("[data-voice-preview]")
    assert caught.value.status == 400 and caught.value.json()["code"] == "voice_language_mismatch"
    page.wait_for_function("() => !document.querySelector('[data-voice-preview]').disabled")
    assert "Korean" in page.inner_text("[data-voice-preview-status]")
    assert errors == []
