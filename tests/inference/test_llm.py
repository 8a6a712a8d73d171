"""The LLM gateway against the fake OpenAI-compatible server (real openai client, real HTTP)."""
from __future__ import annotations

import json

import pytest

from avatarforge.errors import AppError
from inference import llm as gateway
from inference.llm import retry
from tests.support.fake_openai import FakeOpenAI

USER = [{"role": "user", "content": "Hello"}]


def test_list_models_from_llm_models(fake_llm):
    models = gateway.list_models()
    assert [m.name for m in models] == ["fake", "fake-small"]
    assert models[1].context_length == 2048
    assert gateway.get_model(None).name == "fake"
    assert gateway.get_model("fake-small").max_tokens == 256
    public = models[0].public()
    assert "api_key" not in public and "base_url" not in public


def test_unknown_model_is_an_app_error(fake_llm):
    with pytest.raises(AppError) as info:
        gateway.get_model("nope")
    assert info.value.code == "unknown_model"
    assert info.value.details == {"available": ["fake", "fake-small"]}


def test_single_endpoint_settings(settings):
    settings.LLM_MODELS = []
    settings.LLM_BASE_URL = "http://llm.internal:8000/v1"
    settings.LLM_MODEL = "gemma-3-27b-it"
    settings.LLM_CONTEXT_LENGTH = 4096
    (cfg,) = gateway.list_models()
    assert (cfg.name, cfg.base_url, cfg.context_length, cfg.embedded) == ("gemma-3-27b-it", "http://llm.internal:8000/v1", 4096, False)


def test_no_configuration_means_embedded_model(settings):
    settings.LLM_MODELS = []
    settings.LLM_BASE_URL = ""
    (cfg,) = gateway.list_models()
    assert cfg.embedded and cfg.name == gateway.EMBEDDED_MODEL_NAME
    assert cfg.base_url == f"http://127.0.0.1:{settings.EMBEDDED_LLM_PORT}/v1"


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "x", "base_url": "ftp://x"},
        {"name": "x", "base_url": "http://x", "temperature": 5},
        {"name": "x", "base_url": "http://x", "context_length": 1024, "max_tokens": 600},
        {"name": "x", "base_url": "http://x", "json_mode": "yaml"},
        {"name": "x", "base_url": "http://x", "frequency_penalty": 3},
        {"name": "x", "base_url": "http://x", "presence_penalty": "high"},
        {"name": "x", "base_url": "http://x", "extra_body": ["repeat_penalty"]},
        {"name": "x", "base_url": "http://x", "extra_body": {"max_tokens": 9000}},  # the gateway's own field
        {"name": "x", "base_url": "http://x", "extra_body": {"grammar": "root ::= \"x\""}},
        {"name": "x", "base_url": "http://x", "max_tokens": 512, "chat_max_tokens": 1024},
        {"name": "x", "base_url": "http://x", "constrain": "outlines"},
    ],
)
def test_bad_model_config_is_refused(settings, bad):
    settings.LLM_MODELS = [bad]
    with pytest.raises(ValueError):
        gateway.list_models()


def test_complete_sends_the_wire_format(fake_llm):
    fake_llm.reply("[happy] Hi!")
    assert gateway.complete(model=None, messages=USER, max_tokens=50, temperature=0.2) == "[happy] Hi!"
    (req,) = fake_llm.completions
    assert req.body["model"] == "fake-model"
    assert req.body["messages"] == USER
    assert req.body["max_tokens"] == 50 and req.body["temperature"] == 0.2
    assert req.headers["authorization"] == "Bearer test-key"
    assert not req.stream


def test_max_tokens_never_exceeds_the_model_limit(fake_llm):
    gateway.complete(model="fake-small", messages=USER, max_tokens=100_000)
    assert fake_llm.completions[-1].body["max_tokens"] == 256


def test_complete_json_schema_uses_response_format_and_validates(fake_llm):
    schema = {"type": "object", "required": ["name", "age"], "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}}
    fake_llm.reply('Sure! ```json\n{"name": "Mina", "age": 17}\n```')
    value = json.loads(gateway.complete(model=None, messages=USER, json_schema=schema))
    assert value == {"name": "Mina", "age": 17}
    body = fake_llm.completions[-1].body
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == schema
    assert body["messages"][0]["role"] == "system" and "JSON" in body["messages"][0]["content"]


def test_complete_json_falls_back_when_response_format_is_refused(fake_llm):
    schema = {"type": "object", "required": ["a"]}
    fake_llm.fail(400, "response_format json_schema is not supported")
    fake_llm.fail(400, "response_format is not supported")
    fake_llm.reply_json({"a": 1})
    assert json.loads(gateway.complete(model=None, messages=USER, json_schema=schema)) == {"a": 1}
    formats = [r.body.get("response_format") for r in fake_llm.completions]
    assert [f and f["type"] for f in formats] == ["json_schema", "json_object", None]
    # The endpoint's level is remembered: the next call goes straight to plain text.
    fake_llm.reply_json({"a": 2})
    gateway.complete(model=None, messages=USER, json_schema=schema)
    assert "response_format" not in fake_llm.completions[-1].body


def test_complete_json_that_misses_fields_is_a_bad_response(fake_llm):
    fake_llm.reply_json({"b": 1})
    with pytest.raises(gateway.LLMError) as info:
        gateway.complete(model=None, messages=USER, json_schema={"type": "object", "required": ["a"]})
    assert info.value.code == "llm_bad_response"


def test_complete_without_json_is_a_bad_response(fake_llm):
    fake_llm.reply("I would rather not.")
    with pytest.raises(gateway.LLMError) as info:
        gateway.complete(model=None, messages=USER, json_schema={"type": "object"})
    assert info.value.code == "llm_bad_response"


def test_transient_errors_are_retried_three_times(fake_llm):
    fake_llm.fail(503, "overloaded", times=3)
    fake_llm.reply("finally")
    assert gateway.complete(model=None, messages=USER) == "finally"
    assert len(fake_llm.completions) == 4


def test_retries_give_up_after_three(fake_llm):
    fake_llm.fail(500, "boom", times=4)
    fake_llm.reply("never reached")
    with pytest.raises(gateway.LLMError) as info:
        gateway.complete(model=None, messages=USER)
    assert info.value.code == "llm_upstream_error" and info.value.status == 502
    assert len(fake_llm.completions) == 4


def test_rate_limit_honours_short_retry_after(fake_llm):
    fake_llm.fail(429, "slow down", headers={"Retry-After": "0"})
    fake_llm.reply("ok")
    assert gateway.complete(model=None, messages=USER) == "ok"


def test_rate_limit_with_long_retry_after_is_not_waited_for(fake_llm):
    fake_llm.fail(429, "slow down", headers={"Retry-After": "120"})
    with pytest.raises(gateway.LLMError) as info:
        gateway.complete(model=None, messages=USER)
    assert (info.value.code, info.value.status, info.value.retry_after) == ("llm_rate_limited", 429, 120.0)
    assert len(fake_llm.completions) == 1


@pytest.mark.parametrize(
    ("status", "message", "code", "expected"),
    [
        (400, "This model's maximum context length is 8192 tokens", "context_length_exceeded", "llm_context_too_long"),
        (400, "the request exceeds the available context size (n_ctx)", None, "llm_context_too_long"),
        (401, "Incorrect API key", "invalid_api_key", "llm_auth_failed"),
        (400, "temperature must be positive", None, "llm_bad_request"),
    ],
)
def test_errors_are_translated_and_not_retried(fake_llm, status, message, code, expected):
    fake_llm.fail(status, message, code=code)
    with pytest.raises(gateway.LLMError) as info:
        gateway.complete(model=None, messages=USER)
    assert info.value.code == expected
    assert info.value.as_dict()["message"]
    assert len(fake_llm.completions) == 1


def test_unknown_upstream_model_is_reported(fake_llm, settings):
    settings.LLM_MODELS = [fake_llm.model_config("fake", model="missing-model")]
    with pytest.raises(gateway.LLMError) as info:
        gateway.complete(model=None, messages=USER)
    assert info.value.code == "llm_model_not_found"


def test_unreachable_server(settings, monkeypatch):
    monkeypatch.setattr(retry, "RETRY_BASE_DELAY", 0.001)
    server = FakeOpenAI().start()
    cfg = server.model_config("gone")
    server.stop()
    settings.LLM_MODELS = [cfg]
    with pytest.raises(gateway.LLMError) as info:
        gateway.complete(model=None, messages=USER)
    assert (info.value.code, info.value.status) == ("llm_unreachable", 503)


def test_timeout(fake_llm, settings):
    settings.LLM_MODELS = [fake_llm.model_config("fake", timeout=0.2)]
    for _ in range(4):
        fake_llm.reply("late", delay=0.4)
    with pytest.raises(gateway.LLMError) as info:
        gateway.complete(model=None, messages=USER)
    assert info.value.code == "llm_timeout" and info.value.details["phase"] == "read"
    # Asked once: a model too slow for the timeout would be as slow again (a wizard waited 4 x 60 s).
    assert len(fake_llm.completions) == 1


def test_a_long_answer_may_get_a_longer_timeout(fake_llm, settings):
    settings.LLM_MODELS = [fake_llm.model_config("fake", timeout=0.2)]
    fake_llm.reply("slow but complete", delay=0.4)
    assert gateway.complete(model=None, messages=USER, timeout=2.0) == "slow but complete"
    fake_llm.reply("late", delay=0.4)
    with pytest.raises(gateway.LLMError):
        gateway.complete(model=None, messages=USER)  # the model's own timeout still holds


async def test_a_stream_whose_first_token_is_late_is_not_asked_again(fake_llm, settings):
    settings.LLM_MODELS = [fake_llm.model_config("fake", timeout=0.2)]
    for _ in range(4):
        fake_llm.reply("late", delay=0.4)
    with pytest.raises(gateway.LLMError) as info:
        await collect(model=None, messages=USER)
    assert info.value.code == "llm_timeout"
    assert len(fake_llm.completions) == 1


async def collect(**kwargs) -> tuple[str, list[gateway.StreamEvent]]:
    events = [e async for e in gateway.stream_chat(**kwargs)]
    return "".join(e.text for e in events), events


async def test_stream_token_by_token(fake_llm):
    fake_llm.reply("[excited] one two three", token_rate=200)
    text, events = await collect(model=None, messages=USER)
    assert text == "[excited] one two three"
    assert [e.text for e in events[:-1]] == ["[excited]", " one", " two", " three"]
    assert events[-1].done and events[-1].finish_reason == "stop"
    assert fake_llm.completions[-1].stream


async def test_stream_retries_before_the_first_token(fake_llm):
    fake_llm.fail(502, "bad gateway")
    fake_llm.reply("hello world")
    text, events = await collect(model=None, messages=USER)
    assert text == "hello world" and events[-1].retries == 1


async def test_stream_broken_after_the_first_token_is_not_retried(fake_llm):
    fake_llm.reply("a b c d e f", error_after_tokens=2)
    fake_llm.reply("should not be used")
    received = []
    with pytest.raises(gateway.LLMError) as info:
        async for event in gateway.stream_chat(model=None, messages=USER):
            received.append(event.text)
    assert received == ["a", " b"]
    assert info.value.code in ("llm_unreachable", "llm_bad_response")
    assert len(fake_llm.completions) == 1


async def test_closing_the_stream_disconnects_upstream(fake_llm):
    import asyncio

    fake_llm.reply("word " * 200, token_rate=50)
    stream = gateway.stream_chat(model=None, messages=USER)
    async for event in stream:
        if event.text:
            break
    await stream.aclose()
    for _ in range(100):
        if fake_llm.completions[-1].disconnected:
            break
        await asyncio.sleep(0.05)
    request = fake_llm.completions[-1]
    assert request.disconnected
    assert request.tokens_sent < 200


async def test_stream_context_too_long(fake_llm):
    fake_llm.fail_context_length()
    with pytest.raises(gateway.LLMError) as info:
        await collect(model=None, messages=USER)
    assert info.value.code == "llm_context_too_long"


def test_extract_json_object():
    assert gateway.extract_json_object('noise {"a": {"b": [1, 2]}} tail {"c": 1}') == {"a": {"b": [1, 2]}}
    assert gateway.extract_json_object("{broken {\"ok\": true}") == {"ok": True}
    assert gateway.extract_json_object("[1, 2]") is None
    assert gateway.extract_json_object("") is None


def test_models_endpoint_of_the_fake_server(fake_llm):
    cfg = gateway.get_model(None)
    assert gateway.ping(cfg).startswith("fake: fake-model")


def test_bad_llm_models_fail_the_system_check(settings):
    from inference.checks import check_llm_models

    settings.LLM_MODELS = [{"name": "a", "base_url": "http://x/v1"}, {"name": "a", "base_url": "http://y/v1"}]
    (error,) = check_llm_models(None)
    assert error.id == "chat.E001" and "unique" in error.msg
    settings.LLM_MODELS = [{"name": "a", "base_url": "http://x/v1"}]
    assert check_llm_models(None) == []
