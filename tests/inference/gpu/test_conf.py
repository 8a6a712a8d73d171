"""GPU host configuration: every bad value stops start-up with a message naming the variable."""
from __future__ import annotations

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from inference.gpu.conf import load_config
from inference.gpu.vram import NvmlReader, VramUnavailable, reader_from

LLM = {"kind": "vllm", "url": "http://127.0.0.1:8000", "vram_mb": 15000, "llm_model": "m"}
TTS = {"kind": "gpt_sovits", "url": "http://127.0.0.1:9880", "vram_mb": 4000, "command": ["python", "api_v2.py"]}


def config(**env: object):
    raw = {"GPU_HOST": "box", "GPU_SERVICES": json.dumps({"llm": LLM, "tts": TTS}), "GPU_LOG_DIR": "/tmp/x"}
    raw.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in env.items()})
    return load_config(raw)


def test_defaults_give_one_mode_per_configured_service():
    cfg = config()
    assert dict(cfg.modes) == {"chat": ("llm",), "tts": ("tts",)}
    assert cfg.mode_vram_mb("chat") == 15000 and cfg.all_vram_mb() == 19000
    assert cfg.host_queue == "gpu.box" and cfg.queues == ("gpu",)
    assert cfg.services["tts"].health_path == "/docs"  # GPT-SoVITS api_v2 has no /health
    assert cfg.services["tts"].can_leave and cfg.services["llm"].can_leave


def test_an_external_engine_cannot_leave_the_gpu():
    cfg = config(GPU_SERVICES={"llm": LLM, "tts": {**TTS, "command": []}})
    assert not cfg.services["tts"].can_leave


@pytest.mark.parametrize(("env", "names"), [
    ({"GPU_SERVICES": "{not json"}, "GPU_SERVICES"),
    ({"GPU_SERVICES": {"gpu": LLM}}, "unknown service 'gpu'"),
    ({"GPU_SERVICES": {"llm": {**LLM, "kind": "ollama"}}}, "kind must be one of"),
    ({"GPU_SERVICES": {"llm": {**LLM, "url": "ftp://x"}}}, "url must be an http(s) URL"),
    ({"GPU_SERVICES": {"llm": {**LLM, "vram_mb": "lots"}}}, "vram_mb must be a whole number"),
    ({"GPU_SERVICES": {"llm": {**LLM, "command": "vllm serve"}}}, "command must be a list"),
    ({"GPU_SERVICES": {"llm": {**LLM, "sleep_level": 3}}}, "sleep_level must be 1 or 2"),
    ({"GPU_MODES": {"chat": ["llm", "stt"]}}, "mode 'chat' must list configured services"),
    ({"GPU_MODES": {"party": ["llm"]}}, "unknown mode 'party'"),
    ({"GPU_DEFAULT_MODE": "gen3d"}, "GPU_DEFAULT_MODE"),
    ({"GPU_SWITCHING": "sometimes"}, "GPU_SWITCHING"),
    ({"GPU_HOST": "a b/c"}, "GPU_HOST"),
    ({"GPU_LOCK_TTL": "0"}, "GPU_LOCK_TTL"),
    ({"GPU_INDEX": "x"}, "GPU_INDEX"),
])
def test_bad_values_name_the_variable(env, names):
    with pytest.raises(ImproperlyConfigured) as caught:
        config(**env)
    assert names in str(caught.value)


def test_the_nvml_reader_reads_the_gpu_or_says_why_not():
    import pynvml

    try:
        pynvml.nvmlInit()
        has_driver = True
    except pynvml.NVMLError:
        has_driver = False
    if has_driver:  # a GPU machine: a real reading
        reading = NvmlReader().read(0)
        assert reading.total_mb > 0 and 0 <= reading.used_mb <= reading.total_mb
    else:  # no driver (CI, this machine): our own error type with the reason, never a pynvml one
        with pytest.raises(VramUnavailable) as caught:
            NvmlReader().read(0)
        assert "NVML could not start" in str(caught.value)


def test_reader_from_configuration():
    assert isinstance(reader_from("nvml"), NvmlReader)
    with pytest.raises(VramUnavailable):
        reader_from("no.such.Reader")
