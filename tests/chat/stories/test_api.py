"""POST /api/story/generate against a server speaking the OpenAI streaming protocol."""
from __future__ import annotations

import time

import pytest

from chat import rate_limits
from inference import slots
from tests.support.fake_openai import split_tokens

pytestmark = pytest.mark.django_db

URL = "/api/story/generate"

STORY = (
    "## Chapter 1: The Call\nSir Arthur heard the dragon roar across the valley.\n\n"
    "He took his sword.\n\n"
    "## Chapter 2: The Wizard\nMerlin waited at the old bridge with a lantern.\n\n"
    "## Chapter 3: The Dragon\nTogether they drove the beast away. Peace came back.\n"
)


def test_a_story_comes_back_in_chapters_with_its_word_count(api_client, fake_llm):
    fake_llm.reply(STORY)
    response = api_client.post(URL, {"prompt": "A knight and a wizard defeat a dragon", "length": "medium", "style": "fantasy"},
                               format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["chapters"] == [
        {"title": "Chapter 1: The Call", "text": "Sir Arthur heard the dragon roar across the valley.\n\nHe took his sword."},
        {"title": "Chapter 2: The Wizard", "text": "Merlin waited at the old bridge with a lantern."},
        {"title": "Chapter 3: The Dragon", "text": "Together they drove the beast away. Peace came back."},
    ]
    assert body["word_count"] == 13 + 9 + 9
    assert body["story"].startswith("Chapter 1: The Call\n\nSir Arthur heard") and body["story"].endswith("Peace came back.")
    assert (body["end"], body["model"], body["language"]) == ("complete", "fake", "en")
    request = fake_llm.completions[-1]
    assert request.stream  # through the gateway's streaming call
    assert "about 500 words in 3 chapters" in request.messages[0]["content"]
    assert request.messages[1]["content"] == "A knight and a wizard defeat a dragon"


def test_a_model_that_ignores_the_format_gives_one_chapter(api_client, fake_llm):
    fake_llm.reply("옛날 옛적에 용감한 기사가 살았습니다.\n\n그는 용을 물리쳤습니다.")
    body = api_client.post(URL, {"prompt": "용감한 기사 이야기", "length": "short"}, format="json").json()
    assert body["chapters"] == [{"title": "", "text": "옛날 옛적에 용감한 기사가 살았습니다.\n\n그는 용을 물리쳤습니다."}]
    assert body["word_count"] == 5 + 3 and body["language"] == "ko"
    assert "Korean (한국어)" in fake_llm.completions[-1].messages[0]["content"]


def test_a_story_that_loops_is_cut_before_the_repetition(api_client, fake_llm):
    scripted = fake_llm.reply("## One\nThe dragon slept. " + "And then the knight said that he was tired. " * 20, token_rate=200)
    body = api_client.post(URL, {"prompt": "A dragon", "length": "short", "style": "general"}, format="json").json()
    assert body["end"] == "loop_cut"
    assert body["chapters"] == [{"title": "One", "text": "The dragon slept. And then the knight said that he was tired."}]
    assert body["word_count"] == 12
    # The upstream stream was closed, not read to its end.
    request = fake_llm.completions[-1]
    for _ in range(100):
        if request.disconnected:
            break
        time.sleep(0.05)
    assert request.disconnected and request.tokens_sent < len(scripted.pieces())


def test_the_token_cap_is_reported(api_client, fake_llm):
    fake_llm.reply("A short tale that ran out of", finish_reason="length")
    body = api_client.post(URL, {"prompt": "A tale"}, format="json").json()
    assert (body["end"], body["chapters"][0]["text"]) == ("max_tokens", "A short tale that ran out of")


@pytest.mark.parametrize(("payload", "code"), [
    ({"prompt": "   "}, "story_prompt_empty"),
    ({}, "story_prompt_empty"),
    ({"prompt": "x" * 2001}, "story_prompt_too_long"),
    ({"prompt": "A tale", "length": "epic"}, "story_bad_length"),
    ({"prompt": "A tale", "style": "<script>"}, "story_bad_style"),
])
def test_bad_requests_have_codes_and_reach_no_model(api_client, fake_llm, payload, code):
    response = api_client.post(URL, payload, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert fake_llm.completions == []


def test_an_unknown_model_is_refused(api_client, fake_llm):
    response = api_client.post(URL, {"prompt": "A tale", "model": "nope"}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "unknown_model")


def test_signing_in_is_required(anon_api_client, fake_llm):
    response = anon_api_client.post(URL, {"prompt": "A tale"}, format="json")
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
    assert fake_llm.completions == []


def test_the_story_budget_runs_out_with_429(api_client, fake_llm, monkeypatch):
    monkeypatch.setattr(rate_limits, "STORY_GENERATE", rate_limits.Rate("story_generate", 1, 600))
    fake_llm.default.text = "A tale."
    assert api_client.post(URL, {"prompt": "A tale"}, format="json").status_code == 200
    response = api_client.post(URL, {"prompt": "A tale"}, format="json")
    assert (response.status_code, response.json()["code"]) == (429, "rate_limited")
    assert int(response["Retry-After"]) > 500
    assert len(fake_llm.completions) == 1


def test_a_busy_model_answers_model_busy(api_client, fake_llm, settings):
    settings.LLM_MODELS = [fake_llm.model_config("fake", max_concurrency=1)]
    held = slots.try_acquire(fake_llm.base_url, 1)
    assert held is not None
    try:
        response = api_client.post(URL, {"prompt": "A tale"}, format="json")
        assert (response.status_code, response.json()["code"]) == (429, "model_busy")
        assert int(response["Retry-After"]) >= 1
    finally:
        held.release_sync()
    assert fake_llm.completions == []
    # The slot the refused request never took, and the one a finished story took, are free.
    fake_llm.default.text = "A tale."
    assert api_client.post(URL, {"prompt": "A tale"}, format="json").status_code == 200
    assert slots.stats(fake_llm.base_url).in_flight == 0


def test_a_model_server_that_is_down_answers_llm_codes(api_client, fake_llm, settings):
    fake_llm.fail(500, "boom", times=10)
    response = api_client.post(URL, {"prompt": "A tale"}, format="json")
    assert (response.status_code, response.json()["code"]) == (502, "llm_upstream_error")
    settings.LLM_MODELS = [fake_llm.model_config("fake", base_url="http://127.0.0.1:9/v1")]
    response = api_client.post(URL, {"prompt": "A tale"}, format="json")
    assert (response.status_code, response.json()["code"]) == (503, "llm_unreachable")


def test_a_model_that_writes_nothing_is_a_bad_response(api_client, fake_llm):
    fake_llm.reply(" ", tokens=[" "])
    response = api_client.post(URL, {"prompt": "A tale"}, format="json")
    assert (response.status_code, response.json()["code"]) == (502, "llm_bad_response")


def test_split_tokens_keeps_the_story_text():
    # The streaming tests compare tokens with this split of the scripted story.
    assert "".join(split_tokens(STORY)) == STORY


def test_other_bad_fields_are_invalid_with_details(api_client, fake_llm):
    response = api_client.post(URL, {"prompt": "a\x00b"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and list(response.json()["details"]) == ["prompt"]
    response = api_client.post(URL, ["not", "an", "object"], format="json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid")


def test_the_answer_has_exactly_the_documented_shape(api_client, fake_llm):
    from drf_spectacular.generators import SchemaGenerator

    from tests.platform.test_api_shapes import documented, shape_problems

    schema = SchemaGenerator().get_schema(request=None, public=True)
    fake_llm.reply(STORY)
    body = api_client.post(URL, {"prompt": "A knight"}, format="json").json()
    assert shape_problems(schema, documented(schema, "POST", URL, 200), body) == []
    assert schema["paths"][URL]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("StoryRequestRequest")
