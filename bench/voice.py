"""Benchmark of the embedded speech engines (the voice session figures come with voice sessions).

    python -m bench.voice [--clauses N]

Prints:
    FIGURE tts_first_audio_ms_en <ms> ms   Piper (own process, warm): a clause in -> first PCM out, median
    FIGURE tts_first_audio_ms_ko <ms> ms   espeak-ng Korean: the same, median
    FIGURE tts_first_audio_ms <ms> ms      the slower of the two (the issue's figure)
    FIGURE tts_overhead_ms <ms> ms         first audio at our caller minus the Piper worker's own time
                                           to that chunk (IPC, framing, visemes; goal < 100), median
    FIGURE stt_rtf <ratio> x               embedded Whisper tiny.en: processing time / audio length
    FIGURE stt_rtf_ko <ratio> x            embedded Whisper base on Korean
Speech to transcribe is made with espeak-ng. No Django, database or network needed.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EN_CLAUSES = [
    "Hello there,", "how are you doing today?", "I am happy to see you again.", "Let us talk about your plans.",
    "That sounds like a great idea!", "Tell me more about it.",
]
KO_CLAUSES = ["안녕하세요,", "오늘 기분이 어떠세요?", "다시 만나서 반가워요.", "계획에 대해 이야기해 봐요.", "정말 좋은 생각이에요!", "더 말해 주세요."]


def figure(name: str, value: float, unit: str) -> None:
    print(f"FIGURE {name} {value:.3f} {unit}" if unit == "x" else f"FIGURE {name} {value:.1f} {unit}", flush=True)


async def first_audio(engine, text: str, voice) -> float:
    started = time.perf_counter()
    stream = engine.stream(text, voice=voice)
    try:
        await anext(stream)
        return (time.perf_counter() - started) * 1000
    finally:
        await stream.aclose()


async def bench_tts(clauses: int) -> None:
    from inference.speech.config import EMBEDDED_VOICES, piper_voice_path
    from inference.speech.espeak_tts import EspeakTts
    from inference.speech.piper_tts import PiperTts

    joe, ko = EMBEDDED_VOICES
    piper = PiperTts(model=piper_voice_path())
    await asyncio.to_thread(piper.warm)
    await piper.synthesize("Warming up.", voice=joe)
    firsts, overheads = [], []
    for text in (EN_CLAUSES * clauses)[:clauses]:
        # Whole clause each time (no early close) so the worker's engine time is for this request.
        started = time.perf_counter()
        stream = piper.stream(text, voice=joe)
        await anext(stream)
        ms = (time.perf_counter() - started) * 1000
        firsts.append(ms)
        overheads.append(ms - (piper.last_engine_ms or 0.0))
        async for _ in stream:
            pass
    piper.close()
    figure("tts_first_audio_ms_en", statistics.median(firsts), "ms")
    espeak = EspeakTts()
    ko_firsts = [await first_audio(espeak, text, ko) for text in (KO_CLAUSES * clauses)[:clauses]]
    figure("tts_first_audio_ms_ko", statistics.median(ko_firsts), "ms")
    # The issue's own name: the slower of the two embedded voices, so the one figure is an upper bound.
    figure("tts_first_audio_ms", max(statistics.median(firsts), statistics.median(ko_firsts)), "ms")
    figure("tts_overhead_ms", statistics.median(overheads), "ms")


def speech(text: str, language: str):
    import numpy as np

    from inference.speech.audio import read_wav, resample

    wav = subprocess.run(["espeak-ng", "-v", language, "-s", "140", "--stdout"], input=text.encode(), capture_output=True, check=True).stdout
    samples, rate = read_wav(wav)
    pad = np.zeros(8000, dtype=np.float32)
    return np.concatenate([pad, resample(samples, rate, 16000), pad])


def bench_stt(clauses: int) -> None:
    from inference.speech.config import english_whisper_path
    from inference.speech.stt import WhisperStt

    models = Path(os.environ.get("SPEECH_MODELS_DIR", ROOT / "var" / "models"))
    stt = WhisperStt(english_model=english_whisper_path(), multilingual_model=models / "whisper-base")
    for name, language, texts in (("stt_rtf", "en", EN_CLAUSES), ("stt_rtf_ko", "ko", KO_CLAUSES)):
        stt.warm(language)
        audio = [speech(" ".join(texts[i:i + 2]), language) for i in range(0, min(len(texts), max(2, clauses)), 2)]
        spent = seconds = 0.0
        for samples in audio:
            started = time.perf_counter()
            stt.transcribe_sync(samples, language)
            spent += time.perf_counter() - started
            seconds += samples.size / 16000
        figure(name, spent / seconds, "x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clauses", type=int, default=6)
    parser.add_argument("--turns", type=int, default=20, help="voice session turns (bench/voice_sessions.py)")
    parser.add_argument("--no-sessions", action="store_true", help="engines only, no voice sessions")
    args = parser.parse_args()
    asyncio.run(bench_tts(args.clauses))
    bench_stt(args.clauses)
    if not args.no_sessions:
        # voice_to_voice_ms_p50/p95, barge_in_ms_p95, voice_sessions_max (a Daphne and a voice worker).
        from bench import voice_sessions

        voice_sessions.main(["--turns", str(args.turns)])


if __name__ == "__main__":
    main()
