"""Talk on the chat page in real Chromium, with a fake microphone playing espeak-ng speech then
silence (`--use-file-for-fake-audio-capture`): a voice worker (`manage.py voice_worker`, its own
process as in production) transcribes it, the fake OpenAI server answers, the reply is spoken back
over WebRTC. Captions show the user's transcript and the reply; the avatar's jaw opens and closes
while the reply's audio plays in the page and rests while it is silent.

The page's own numbers (window.__chatPage.voice.stats.samples: [time, jaw applied to the avatar,
RMS of the character's voice as received]) are sampled every animation frame."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from tests.support.fake_openai import STORY, FakeOpenAI, Reply

from . import harness

SPEECH = "What is your favorite color?"
REPLY = "[happy] My favorite color is blue, like the sea. I love to swim in it every summer."
LEAD_SILENCE_S = 6.0  # the mic starts at Talk; the WebRTC link takes a few seconds to come up
LOUD = 0.02  # RMS of the received voice above this: the character is audibly speaking
SILENT = 0.002  # below this: silence (the worker sends digital zeros between replies)
OPEN = 0.05  # jaw above this: the mouth is open
SYNC_MS = 500  # the mouth's first and last opening within this of the voice's (a loose lip-sync)


def _espeak(tmp: Path, text: str) -> tuple[wave._wave_params, bytes]:
    espeak = shutil.which("espeak-ng")
    if not espeak:
        pytest.skip("espeak-ng is not installed")
    speech = tmp / "speech.wav"
    subprocess.run([espeak, "-s", "140", "-w", str(speech), text], check=True, timeout=60)
    with wave.open(str(speech)) as w:
        return w.getparams(), w.readframes(w.getnframes())


def _speech_wav(tmp: Path, *, interruption_after_s: float | None = None) -> Path:
    """Lead silence, the question, then silence; with `interruption_after_s`, that long after the
    question the first 200 ms of "Wait" (too short for the worker's own 256 ms rule)."""
    params, frames = _espeak(tmp, SPEECH)
    def silence(seconds: float) -> bytes:
        return b"\0" * (int(params.framerate * seconds) * params.sampwidth * params.nchannels)

    tail = silence(90)
    if interruption_after_s is not None:
        import numpy as np

        _, wait = _espeak(tmp, "Wait, stop.")
        samples = np.frombuffer(wait, dtype=np.int16)
        start = int(np.argmax(np.abs(samples) > 600))
        clip = samples[start:start + int(params.framerate * 0.2)].tobytes()
        tail = silence(interruption_after_s) + clip + silence(90)
    out = tmp / "question.wav"
    with wave.open(str(out), "wb") as w:
        w.setparams(params)
        w.writeframes(silence(LEAD_SILENCE_S) + frames + tail)
    return out


def _talk(browser, server: harness.LiveServer, conversation: str, errors: list[str]):
    """Signed in on the conversation page, Talk pressed (the fake microphone starts playing)."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(30_000)
    page = harness.login(context, server.base_url, "talker@example.com")
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server.base_url}/chat/{conversation}/")
    page.wait_for_function("() => window.__chatPage && window.__chatPage.ready && window.__chatPage.voice")
    page.click("[data-voice-talk]")
    return page


@pytest.fixture(scope="module")
def voice_server(tmp_path_factory):
    if not Path(harness.CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {harness.CHROMIUM}")
    assert (harness.ROOT / "static" / "dist" / "chat.js").exists(), "front-end not built: npm run build"
    tmp = tmp_path_factory.mktemp("chat-voice")
    fake = FakeOpenAI(models=("fake-model",)).start()
    server = harness.LiveServer(tmp)
    assert server.env.get("REDIS_URL"), "the voice worker and Daphne meet in Redis"
    server.env["LLM_MODELS"] = json.dumps([fake.model_config("fake", label="Fake model")])
    server.env["CHANNEL_PREFIX"] = server.env["CHANNEL_PREFIX"] + "_voice"
    server.start()
    info = server.manage_python(
        "import json\n"
        "from accounts.models import Plan, User\n"
        "from characters.models import Character\n"
        "from chat import services\n"
        f"u = User.objects.create_user(email='talker@example.com', password={harness.PASSWORD!r}, plan=Plan.objects.get(code='free'))\n"
        "c = Character.objects.create(owner=u, name='Mina', first_message='Hi {{user}}!', builtin_avatar='cat')\n"
        "conv = services.create_conversation(user=u, character_id=c.pk)\n"
        "print(json.dumps({'conversation': str(conv.pk)}))\n"
    )
    log = open(tmp / "voice_worker.log", "w+")  # noqa: SIM115 - closed at teardown
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "voice_worker", "--loopback", "--max-sessions", "1"],
        cwd=harness.ROOT, env=server.env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        harness.wait_for_voice_worker(server, worker)
        yield server, fake, info["conversation"], worker
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
def voice_playwright(voice_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


def test_talk_captions_and_a_mouth_that_follows_the_reply_audio(voice_server, voice_playwright, tmp_path, artifacts):
    server, fake, conversation, worker = voice_server
    harness.wait_for_voice_worker(server, worker)
    fake.default = Reply(REPLY, token_rate=40)
    wav = _speech_wav(tmp_path)
    browser = harness.launch_chromium(voice_playwright, extra_args=[f"--use-file-for-fake-audio-capture={wav}%noloop"])
    errors: list[str] = []
    try:
        page = _talk(browser, server, conversation, errors)
        page.wait_for_selector("[data-voice-talk][aria-pressed=true]")  # the mic was granted

        # The reply's last clause is captioned, then played to its end.
        page.wait_for_function(
            "() => document.querySelector('[data-voice-captions]').textContent.includes('every summer')",
            timeout=120_000,
        )
        page.wait_for_function("() => !window.__chatPage.voice.stats.speaking", timeout=60_000)
        ended = page.evaluate("() => performance.now()")
        # Keep sampling a while in the silence that follows (the jitter buffer may still be playing).
        page.wait_for_function(
            f"() => {{ const s = window.__chatPage.voice.stats.samples; return s.length && s[s.length - 1][0] > {ended + 4000}; }}",
        )
        captions = page.locator("[data-voice-captions] p").all_inner_texts()
        # The turn is in the message list too (announced to the page's chat socket), not only in captions.
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-chat-log] .msg-assistant .msg-text')].some((e) => e.textContent.includes('every summer'))",
            timeout=30_000,
        )
        logged_user = page.locator("[data-chat-log] .msg-user .msg-text").all_inner_texts()
        stats = page.evaluate("() => window.__chatPage.voice.stats")
        samples = stats["samples"]
        page.screenshot(path=str(artifacts / "chat_voice.png"), full_page=True)
        (artifacts / "chat_voice_stats.json").write_text(json.dumps(stats))
        page.click("[data-voice-talk]")  # hang up
        page.wait_for_selector("[data-voice-talk][aria-pressed=false]")
    finally:
        browser.close()

    # Captions: the user's transcript, then the reply, its clauses read on in one caption.
    mine = [c for c in captions if not c.startswith("Mina:")]
    replies = [c for c in captions if c.startswith("Mina:") and "every summer" in c]
    assert len(replies) == 1, captions  # the reply's clauses read on as one caption
    theirs = replies[0].removeprefix("Mina:").strip()
    assert mine and {"favorite", "color"} & set(mine[0].lower().replace("?", " ").replace(".", " ").split()), captions
    assert theirs == REPLY.split("] ", 1)[1], captions
    assert logged_user and {"favorite", "color"} & set(logged_user[-1].lower().replace("?", " ").split()), logged_user

    loud = [t for t, _jaw, level in samples if level > LOUD]
    assert len(loud) > 30, f"the reply's audio was not heard in the page: {len(loud)} loud samples of {len(samples)}"
    first_sound, last_sound = loud[0], loud[-1]
    opened = [t for t, jaw, _l in samples if jaw > OPEN]
    during = [jaw for t, jaw, _l in samples if first_sound <= t <= last_sound]
    closings = sum(1 for a, b in zip(during, during[1:], strict=False) if a > OPEN >= b)
    summary = {"sound": (round(first_sound), round(last_sound)), "mouth": (round(opened[0]), round(opened[-1])) if opened else None,
               "closings": closings, "max_jaw": round(max(during), 2), "delay_ms": stats["playoutDelayMs"]}
    # The mouth speaks when the voice plays (not when its events arrive: the audio waits in the
    # receiver's jitter buffer, on a loaded machine for seconds).
    assert opened and abs(opened[0] - first_sound) < SYNC_MS and abs(opened[-1] - last_sound) < SYNC_MS, summary
    # It moves with the words: opens and closes again and again, and opens wide.
    assert closings >= 3 and max(during) > 0.3, summary
    # In silence it rests: before the reply's audio and after its end.
    before = [jaw for t, jaw, level in samples if t < first_sound - SYNC_MS and level < SILENT]
    after = [jaw for t, jaw, level in samples if t > last_sound + SYNC_MS and level < SILENT]
    assert len(before) > 30 and len(after) > 30, (len(before), len(after), summary)
    assert max(before) == 0 and max(after) == 0, (max(before), max(after), summary)
    assert errors == []


def test_the_pages_own_vad_interrupts_the_character(voice_server, voice_playwright, tmp_path, artifacts):
    """Silero VAD runs in the page (onnxruntime-web under the strict CSP) and sends `barge_in`
    when the user talks over the character: 200 ms of "Wait" in the middle of a long reply, too
    short for the worker's own rule, interrupts it, and the worker says it was the page's VAD."""
    server, fake, conversation, worker = voice_server
    harness.wait_for_voice_worker(server, worker)
    fake.default = Reply("[neutral] " + STORY, token_rate=4)
    wav = _speech_wav(tmp_path, interruption_after_s=12.0)
    browser = harness.launch_chromium(voice_playwright, extra_args=[f"--use-file-for-fake-audio-capture={wav}%noloop"])
    errors: list[str] = []
    try:
        page = _talk(browser, server, conversation, errors)
        page.wait_for_function("() => window.__chatPage.voice.stats.browserVad === 'on'", timeout=60_000)
        page.wait_for_function("() => window.__chatPage.voice.stats.interrupts.length > 0", timeout=120_000)
        stats = page.evaluate("() => ({ interrupts: window.__chatPage.voice.stats.interrupts,"
                              " sent: window.__chatPage.voice.stats.bargeInsSent })")
        page.click("[data-voice-talk]")  # hang up
        page.wait_for_selector("[data-voice-talk][aria-pressed=false]")
    finally:
        browser.close()
    assert stats == {"interrupts": ["browser_vad"], "sent": 1}
    assert errors == []
