"""Calling a character in real Chromium: the character page's Call button opens the call page; a
voice worker (`manage.py voice_worker`, its own process) brings the character in as the other
participant. A fake microphone (espeak-ng speech after some silence) asks a question; the page
shows what the character heard and what it is doing, its avatar's mouth (the frames it sends)
opens while it answers and rests afterwards, and hanging up closes the room."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAI, Reply

from . import harness

SPEECH = "What is your favorite color?"
REPLY = "[happy] My favorite color is blue, like the sea. I love to swim in it every summer."
LEAD_SILENCE_S = 10.0  # the mic opens with the page; the call comes up a few seconds later
OPEN = 0.3  # jawOpen the character's frames reach while it speaks (its idle pose stays under 0.1)
REST = 0.12


def _question_wav(tmp: Path) -> Path:
    espeak = shutil.which("espeak-ng")
    if not espeak:
        pytest.skip("espeak-ng is not installed")
    speech = tmp / "speech.wav"
    subprocess.run([espeak, "-s", "140", "-w", str(speech), SPEECH], check=True, timeout=60)
    with wave.open(str(speech)) as w:
        params = w.getparams()
        frames = w.readframes(w.getnframes())

    def silence(seconds: float) -> bytes:
        return b"\0" * (int(params.framerate * seconds) * params.sampwidth * params.nchannels)

    out = tmp / "question.wav"
    with wave.open(str(out), "wb") as w:
        w.setparams(params)
        w.writeframes(silence(LEAD_SILENCE_S) + frames + silence(120))
    return out


@pytest.fixture(scope="module")
def call_server(tmp_path_factory):
    if not Path(harness.CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {harness.CHROMIUM}")
    assert (harness.ROOT / "static" / "dist" / "call.js").exists(), "front-end not built: npm run build"
    tmp = tmp_path_factory.mktemp("call-character")
    fake = FakeOpenAI(models=("fake-model",)).start()
    server = harness.LiveServer(tmp)
    assert server.env.get("REDIS_URL"), "the voice worker and Daphne meet in Redis"
    server.env["LLM_MODELS"] = json.dumps([fake.model_config("fake", label="Fake model")])
    server.env["CHANNEL_PREFIX"] = server.env["CHANNEL_PREFIX"] + "_callchar"
    server.start()
    info = server.manage_python(
        "import json\n"
        "from accounts.models import Plan, User\n"
        "from characters.models import Character\n"
        f"u = User.objects.create_user(email='caller@example.com', password={harness.PASSWORD!r}, plan=Plan.objects.get(code='free'))\n"
        "c = Character.objects.create(owner=u, name='Mina', first_message='Hi {{user}}!', builtin_avatar='fox', language='en')\n"
        "print(json.dumps({'character': str(c.pk)}))\n"
    )
    log = open(tmp / "voice_worker.log", "w+")  # noqa: SIM115 - closed at teardown
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "voice_worker", "--loopback", "--max-sessions", "1"],
        cwd=harness.ROOT, env=server.env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        harness.wait_for_voice_worker(server, worker)
        yield server, fake, info["character"], worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.seek(0)
        print("voice worker log:", log.read()[-4000:])
        log.close()
        server.stop()
        fake.stop()


@pytest.fixture(scope="module")
def call_playwright(call_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


def _room_closed(server: harness.LiveServer, code: str) -> bool:
    return server.manage_python(
        "import json\nfrom rooms.models import Room\n"
        f"print(json.dumps({{'closed': Room.objects.get(code={code!r}).closed_at is not None}}))\n"
    )["closed"]


def test_call_button_brings_the_character_into_the_call(call_server, call_playwright, tmp_path, artifacts):
    server, fake, character, worker = call_server
    harness.wait_for_voice_worker(server, worker)
    fake.default = Reply(REPLY, token_rate=40)
    wav = _question_wav(tmp_path)
    browser = harness.launch_chromium(call_playwright, extra_args=[f"--use-file-for-fake-audio-capture={wav}%noloop"])
    errors: list[str] = []
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(30_000)
        context.add_init_script("try { localStorage.setItem('af.call.camera', 'off'); } catch (e) {}")  # tracking off
        page = harness.login(context, server.base_url, "caller@example.com")
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{server.base_url}/characters/{character}/")
        with page.expect_navigation():
            page.click("[data-character-call]")
        assert "/rooms/" in page.url and page.url.endswith("?character_call=1"), page.url
        code = page.url.split("/rooms/")[1].split("/")[0]
        page.wait_for_function("() => window.__afStats !== undefined")
        page.wait_for_function("() => window.__afStats.state === 'connected'", timeout=60_000)
        page.wait_for_function("() => window.__afStats.characterState === 'listening'", timeout=30_000)
        assert page.inner_text("[data-el=character-status]") == "The character is listening. Speak to it."
        # The page's own VAD (instant barge-in) loaded under the CSP, on the call's microphone.
        page.wait_for_function("() => window.__afStats.characterBargeIn.browserVad === 'on'", timeout=60_000)
        remote = page.evaluate("() => window.__afStats.remoteAvatar")
        assert remote["id"] == "builtin:fox" and remote["name"] == "Mina", remote

        page.wait_for_function("() => document.querySelector('[data-el=character-caption]').textContent.includes('olor')",
                               timeout=120_000)
        heard = page.inner_text("[data-el=character-caption]")
        page.wait_for_function("() => window.__afStats.characterState === 'speaking'", timeout=120_000)
        page.wait_for_function("() => window.__afStats.characterState === 'listening'", timeout=120_000)
        done_ms = page.evaluate("() => Date.now() % 4294967296")
        page.wait_for_timeout(2500)
        jaw = page.evaluate("() => window.__afStats.recvJaw")  # [sender timestamp ms, jawOpen] per frame
        barge = page.evaluate("() => window.__afStats.characterBargeIn")
        page.screenshot(path=str(artifacts / "call_character.png"), full_page=True)

        page.click("[data-el=hangup]")
        deadline = time.monotonic() + 30
        while not _room_closed(server, code):
            assert time.monotonic() < deadline, "the room stayed open after the hang-up"
            time.sleep(0.5)
    finally:
        browser.close()

    assert "color" in heard.lower() and heard.startswith("It heard:"), heard
    assert barge == {"browserVad": "on", "bargeInsSent": 0}  # silence after the question: no false barge-in
    assert max(v for _t, v in jaw) > OPEN, max(v for _t, v in jaw)
    after = [v for t, v in jaw if t > done_ms + 700]
    assert len(after) > 20 and max(after) < REST, (len(after), max(after) if after else None)
    # The question is the user's message in the call's conversation, the reply follows it.
    rows = server.manage_python(
        "import json\nfrom chat.models import Message\n"
        "print(json.dumps(list(Message.objects.filter(conversation__user__email='caller@example.com')"
        ".order_by('conversation__created_at', 'seq').values_list('role', 'text'))))\n"
    )
    assert rows[-2][0] == "user" and "color" in rows[-2][1].lower(), rows
    assert rows[-1] == ["assistant", REPLY.split("] ", 1)[1]], rows
    assert errors == []
