"""The mouth follows the voice: with tracking off, Ann's microphone (Chromium plays a WAV of speech
and silence as the fake microphone) opens her avatar's jaw; Ben, on the other side, receives her
frames and his copy of her avatar's mouth moves while the speech plays and rests in silence."""
from __future__ import annotations

import shutil
import statistics
import subprocess
import uuid
import wave
from pathlib import Path

import pytest

from . import harness

SPEECH = "Hello there. The avatar is speaking with my voice."
SILENCE_S = 2.5
OPEN = 0.2  # jawOpen above this: the mouth is open (the idle pose stays under 0.05)
REST = 0.06  # jawOpen under this: the mouth rests


def _speech_and_silence_wav(tmp: Path) -> tuple[Path, float]:
    """speech, SILENCE_S of digital silence, speech, silence (Chromium loops the file).
    Returns the file and the length of one speech part in seconds."""
    espeak = shutil.which("espeak-ng")
    if not espeak:
        pytest.skip("espeak-ng is not installed")
    speech = tmp / "speech.wav"
    subprocess.run([espeak, "-w", str(speech), SPEECH], check=True, timeout=60)
    with wave.open(str(speech)) as w:
        params = w.getparams()
        frames = w.readframes(w.getnframes())
    silence = b"\0" * (int(params.framerate * SILENCE_S) * params.sampwidth * params.nchannels)
    out = tmp / "speech_and_silence.wav"
    with wave.open(str(out), "wb") as w:
        w.setparams(params)
        w.writeframes((frames + silence) * 2)
    return out, params.nframes / params.framerate


def _runs(samples: list[list[float]]) -> list[tuple[str, float, float, list[float]]]:
    """Consecutive samples grouped as ("open" | "rest" | "mid", first ts, last ts, values)."""
    runs: list[tuple[str, float, float, list[float]]] = []
    for ts, v in sorted(samples):
        kind = "open" if v > OPEN else "rest" if v < REST else "mid"
        if runs and runs[-1][0] == kind:
            runs[-1] = (kind, runs[-1][1], ts, [*runs[-1][3], v])
        else:
            runs.append((kind, ts, ts, [v]))
    return runs


def test_remote_mouth_follows_the_voice_with_tracking_off(af_server, playwright_driver, tmp_path, artifacts):
    wav, speech_s = _speech_and_silence_wav(tmp_path)
    emails = [f"{n}-{uuid.uuid4().hex[:8]}@example.com" for n in ("ann", "ben")]
    af_server.create_users(emails)
    talker = harness.launch_chromium(playwright_driver, extra_args=[f"--use-file-for-fake-audio-capture={wav}"])
    listener = harness.launch_chromium(playwright_driver)
    errors: list[str] = []
    try:
        pages = []
        for browser, email in ((talker, emails[0]), (listener, emails[1])):
            ctx = browser.new_context(viewport={"width": 1280, "height": 860})
            ctx.set_default_timeout(30_000)
            ctx.add_init_script("try { localStorage.setItem('af.call.camera', 'off'); } catch (e) {}")  # tracking off
            page = harness.login(ctx, af_server.base_url, email)
            page.on("pageerror", lambda err, who=email: errors.append(f"[{who}] {err}"))
            pages.append(page)
        ann, ben = pages
        code = harness.create_room(ann, af_server.base_url, title="Voice mouth")
        harness.enter_call(ann, af_server.base_url, code)
        harness.enter_call(ben, af_server.base_url, code)
        for page in (ann, ben):
            page.wait_for_function("() => window.__afStats.state === 'connected'", timeout=45_000)
        assert harness.stats(ann)["trackerMode"] == "off"

        ben.evaluate("() => window.__afStats.resetSamples()")
        # Frames for two full loops of the file (sender timestamps, ms).
        cycle_ms = (speech_s + SILENCE_S) * 1000
        ben.wait_for_function(
            f"""() => {{ const j = window.__afStats.recvJaw;
                return j.length > 30 && j[j.length - 1][0] - j[0][0] > {2 * cycle_ms:.0f}; }}""",
            timeout=60_000,
        )
        samples = harness.stats(ben)["recvJaw"]
        ben.screenshot(path=str(artifacts / "call_voice_mouth_receiver.png"), full_page=True)
        runs = _runs(samples)
        long_rests = [r for r in runs if r[0] == "rest" and r[2] - r[1] >= 0.6 * SILENCE_S * 1000]
        opens = [r for r in runs if r[0] == "open"]
        summary = [(k, round(b - a), len(v), round(max(v), 2)) for k, a, b, v in runs]
        # The silences: the mouth rests for most of each 2.5 s of silence, twice or more.
        assert len(long_rests) >= 2, summary
        for _, a, b, _v in long_rests:
            # A rest never spans the speech (espeak's own quiet edges add a little to the silence).
            assert b - a <= (SILENCE_S + 0.5 * speech_s) * 1000, summary
        # The speech: the mouth opens (wide) between every two silences, and moves with the syllables.
        for (_, _a, end, _v), (_, start, _b, _w) in zip(long_rests, long_rests[1:], strict=False):
            between = [v for ts, v in samples if end < ts < start]
            assert between and max(between) > 0.4, summary
            assert sum(1 for r in runs if r[0] == "open" and end < r[1] < start) >= 2, summary  # opens and closes again
            assert statistics.pstdev(between) > 0.1, summary
        assert len(opens) >= 4, summary
    finally:
        talker.close()
        listener.close()
    assert errors == []
