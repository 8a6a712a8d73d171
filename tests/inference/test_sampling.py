"""Per-model sampling (penalties, server-specific fields, the chat reply cap) and constrained
reply prefixes (llama.cpp grammar, vLLM regex), checked on what the fake server receives."""
from __future__ import annotations

import re

import pytest

from inference import llm as gateway
from inference.llm.constrain import ReplyPrefix, gbnf, regex

USER = [{"role": "user", "content": "Hello"}]
TAGS = ReplyPrefix(options=("[happy] ", "[sad] ", "[neutral] "), forbid="[")


def use(settings, fake_llm, **overrides):
    settings.LLM_MODELS = [fake_llm.model_config("m", **overrides)]


def test_sampling_settings_are_sent_as_configured(settings, fake_llm):
    use(settings, fake_llm, frequency_penalty=0.3, presence_penalty=0.1,
        extra_body={"repeat_penalty": 1.1, "repeat_last_n": 128})
    gateway.complete(model=None, messages=USER)
    body = fake_llm.completions[-1].body
    assert body["frequency_penalty"] == 0.3 and body["presence_penalty"] == 0.1
    # extra_body fields travel at the top level of the JSON body, where llama.cpp reads them.
    assert body["repeat_penalty"] == 1.1 and body["repeat_last_n"] == 128


def test_unset_sampling_settings_are_not_sent(fake_llm):
    # OpenAI itself refuses unknown fields: a model without them sends none.
    gateway.complete(model=None, messages=USER)
    body = fake_llm.completions[-1].body
    assert not {"frequency_penalty", "presence_penalty", "repeat_penalty", "grammar"} & set(body)


def test_chat_reply_cap(settings, fake_llm):
    use(settings, fake_llm, max_tokens=512, chat_max_tokens=200)
    (cfg,) = gateway.list_models()
    assert cfg.reply_tokens == 200
    use(settings, fake_llm, max_tokens=300)
    assert gateway.get_model(None).reply_tokens == 300


def test_the_embedded_model_gets_anti_repetition_defaults(settings):
    settings.LLM_MODELS = []
    settings.LLM_BASE_URL = ""
    cfg = gateway.get_model(None)
    assert cfg.embedded
    assert cfg.extra_body["repeat_penalty"] > 1.0 and cfg.frequency_penalty > 0
    assert cfg.reply_tokens < cfg.max_tokens
    assert cfg.constrain == "llama_grammar"


@pytest.mark.parametrize("mode, field", [
    ("llama_grammar", "grammar"),
    ("vllm_regex", "structured_outputs"),
    ("vllm_guided_regex", "guided_regex"),
    ("none", None),
])
async def test_the_prefix_constraint_is_sent_per_capability(settings, fake_llm, mode, field):
    use(settings, fake_llm, constrain=mode, extra_body={"top_k": 40})
    fake_llm.reply("[sad] Oh no.")
    text = "".join([e.text async for e in gateway.stream_chat(model=None, messages=USER, prefix=TAGS)])
    assert text == "[sad] Oh no."
    body = fake_llm.completions[-1].body
    sent = {"grammar", "structured_outputs", "guided_regex"} & set(body)
    assert sent == ({field} if field else set())
    assert body["top_k"] == 40  # the model's own extra fields are kept next to the constraint
    if mode == "llama_grammar":
        assert body["grammar"] == gbnf(TAGS)
    elif mode == "vllm_regex":
        assert body["structured_outputs"] == {"regex": regex(TAGS)}
    elif mode == "vllm_guided_regex":
        assert body["guided_regex"] == regex(TAGS)


async def test_no_constraint_without_a_prefix(settings, fake_llm):
    use(settings, fake_llm, constrain="llama_grammar")
    [e async for e in gateway.stream_chat(model=None, messages=USER)]
    assert "grammar" not in fake_llm.completions[-1].body


async def test_an_endpoint_that_refuses_the_constraint_falls_back_to_parsing(settings, fake_llm):
    use(settings, fake_llm, constrain="vllm_regex")
    fake_llm.fail(400, "Unknown field structured_outputs")
    fake_llm.reply("[happy] Fine.")
    events = [e async for e in gateway.stream_chat(model=None, messages=USER, prefix=TAGS)]
    assert "".join(e.text for e in events) == "[happy] Fine."
    assert not events[-1].constrained
    first, second = fake_llm.completions
    assert "structured_outputs" in first.body and "structured_outputs" not in second.body
    # Remembered: the next reply does not ask again.
    fake_llm.reply("[sad] Again.")
    [e async for e in gateway.stream_chat(model=None, messages=USER, prefix=TAGS)]
    assert len(fake_llm.completions) == 3 and "structured_outputs" not in fake_llm.completions[-1].body


async def test_other_errors_of_a_constrained_stream_are_not_hidden(settings, fake_llm):
    use(settings, fake_llm, constrain="llama_grammar")
    fake_llm.fail_context_length()
    with pytest.raises(gateway.LLMError) as info:
        [e async for e in gateway.stream_chat(model=None, messages=USER, prefix=TAGS)]
    assert info.value.code == "llm_context_too_long"
    assert len(fake_llm.completions) == 1


def test_regex_accepts_a_tag_then_text_and_nothing_else():
    pattern = re.compile(regex(TAGS))
    assert pattern.fullmatch("[happy] That sounds wonderful!\nReally.")
    assert pattern.fullmatch("[neutral] ")
    assert not pattern.fullmatch("That sounds wonderful!")  # no tag
    assert not pattern.fullmatch("[joy] Hi")  # not an allowed tag
    assert not pattern.fullmatch("[happy] Hi [sad] oh")  # a second tag
    assert not pattern.fullmatch("[happy]Hi")  # the space is part of the prefix


def test_regex_and_grammar_escape_special_characters():
    odd = ReplyPrefix(options=('say "a.b" \\ ', "(x)* "), forbid="]-")
    assert re.fullmatch(regex(odd), 'say "a.b" \\ free text')
    assert re.fullmatch(regex(odd), "(x)* more")
    assert not re.fullmatch(regex(odd), "(x)* a-b")
    grammar = gbnf(odd)
    assert '"say \\"a.b\\" \\\\ "' in grammar
    assert "[^\\u005D\\u002D]*" in grammar


def test_a_prefix_needs_options():
    with pytest.raises(ValueError):
        ReplyPrefix(options=())
