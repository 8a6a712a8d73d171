"""scripts/gpu_smoke.sh against the fake vLLM and an nvidia-smi stand-in that reads the fake GPU."""
from __future__ import annotations

import os
import subprocess

import pytest
from django.conf import settings

from .conftest import KV_MB, WEIGHTS_MB

NVIDIA_SMI = """#!/usr/bin/env python3
# nvidia-smi --query-gpu=memory.used|memory.total --format=csv,noheader,nounits -i N
import json, sys, urllib.request
body = json.load(urllib.request.urlopen("{url}"))
print(body["used_mb"] if "--query-gpu=memory.used" in sys.argv else body["total_mb"])
"""


@pytest.mark.slow
def test_the_smoke_script_measures_each_sleep_level(ledger, vllm, tmp_path):
    smi = tmp_path / "nvidia-smi"
    smi.write_text(NVIDIA_SMI.replace("{url}", ledger.url))
    smi.chmod(0o755)
    env = {**os.environ, "VLLM_URL": vllm.url, "NVIDIA_SMI": str(smi)}
    env.pop("MODEL", None)
    run = subprocess.run(["bash", "scripts/gpu_smoke.sh"], cwd=settings.BASE_DIR, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    values = dict(line.split(" ", 2)[1:] for line in run.stdout.splitlines() if line.startswith("SMOKE "))
    assert values["model"] == "fake-llm"
    assert int(values["memory_awake_mb"]) == WEIGHTS_MB + KV_MB
    assert int(values["memory_after_sleep_level1_mb"]) == 0
    assert int(values["memory_after_wake_weights_mb"]) == WEIGHTS_MB
    assert int(values["memory_after_wake_kv_cache_mb"]) == WEIGHTS_MB + KV_MB
    assert int(values["memory_after_sleep_level2_mb"]) == 0
    assert values["chat_while_sleeping_status"] == "503" and "sleeping" in values["chat_while_sleeping_body"]
    for key in ("sleep_level1_ms", "wake_weights_ms", "wake_kv_cache_ms", "first_token_ms_after_wake", "first_token_ms_warm"):
        assert values[key].isdigit(), key
    assert values["reload_weights_status"] == "404"  # the fake has no /collective_rpc; reported, not fatal
    assert values["done"] == "ok"


@pytest.mark.slow
def test_the_smoke_script_says_when_sleep_mode_is_off(tmp_path, fake_llm):
    run = subprocess.run(["bash", "scripts/gpu_smoke.sh"], cwd=settings.BASE_DIR,
                         env={**os.environ, "VLLM_URL": fake_llm.url, "NVIDIA_SMI": "false"},
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "GET /is_sleeping is missing: start vLLM with VLLM_SERVER_DEV_MODE=1" in run.stderr
