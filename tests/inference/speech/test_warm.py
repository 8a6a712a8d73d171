"""`warm_engines` (run by `manage.py voice_worker` at start) loads what a first turn would wait for."""
from inference.speech import config
from inference.speech.turn import SmartTurn


def test_warming_loads_both_whisper_models_smart_turn_and_the_piper_process(monkeypatch):
    monkeypatch.setattr(config, "_engines", {})  # engines of its own, closed below
    config.warm_engines()
    try:
        stt = config.stt_engine()
        assert set(stt._models) == {config.english_whisper_path(), config.multilingual_whisper_path()}
        assert SmartTurn._instance is not None
        piper = config.tts_engine("piper")
        assert piper._process is not None and piper._process.poll() is None
    finally:
        config.tts_engine("piper").close()
