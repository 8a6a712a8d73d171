"""Facts reach the prompts of LATER conversations, the relevant ones first within the budget, and
never another user's prompt."""
from __future__ import annotations

import pytest
from django.test import TestCase

from chat import memory, services, turns
from chat.memories import retrieval
from chat.memories import services as memory_services
from chat.models import CharacterMemory
from inference import embeddings
from inference import llm as gateway

from .conftest import is_extraction

pytestmark = pytest.mark.django_db

FILLER = [
    "Jiwon was born in Daegu.", "Jiwon has two older brothers.", "Jiwon collects vinyl records.",
    "Jiwon is learning to surf in Yangyang.", "Jiwon works night shifts as a nurse.", "Jiwon drives a blue scooter.",
    "Jiwon's favourite season is autumn.", "Jiwon visited Lisbon last spring.", "Jiwon reads mystery novels.",
    "Jiwon's grandmother grows persimmons.", "Jiwon plays the cello in an amateur orchestra.",
    "Jiwon is allergic to peanuts.",
]


def remember(user, character, text):
    return CharacterMemory.objects.create(user=user, character=character, text=text,
                                          embedding=embeddings.to_bytes(embeddings.embed([text])[0]),
                                          embedding_model=embeddings.MODEL_NAME)


def last_chat_system(fake):
    return [r for r in fake.completions if not is_extraction(r.body)][-1].body["messages"][0]["content"]


def test_a_fact_from_one_conversation_reaches_a_later_ones_prompt(user, character, facts_llm):
    first = services.create_conversation(user=user, character_id=character.pk, user_name="Jiwon")
    facts_llm.facts.append(["Jiwon has a cat named Bori."])
    with TestCase.captureOnCommitCallbacks(execute=True):
        turns.reply_sync(user=user, conversation_id=first.pk, text="My cat Bori knocked over my tea.")
    second = services.create_conversation(user=user, character_id=character.pk, user_name="Jiwon")
    turns.reply_sync(user=user, conversation_id=second.pk, text="Guess who woke me up today?")
    system = last_chat_system(facts_llm)
    assert "What you remember about Jiwon" in system
    assert "- Jiwon has a cat named Bori." in system


def test_the_relevant_fact_is_chosen_when_not_all_fit(user, character, facts_llm):
    for text in FILLER:
        remember(user, character, text)
    remember(user, character, "Jiwon's cat is called Bori and loves tuna.")
    conv = services.create_conversation(user=user, character_id=character.pk, user_name="Jiwon")
    turns.reply_sync(user=user, conversation_id=conv.pk, text="What should I feed my cat tonight?")
    plan = memory.build_prompt(conv, cfg=gateway.get_model("fake"))
    chosen = list(CharacterMemory.objects.filter(pk__in=plan.memory_ids).values_list("text", flat=True))
    assert len(chosen) == retrieval.TOP_K < len(FILLER) + 1
    assert "Jiwon's cat is called Bori and loves tuna." in chosen
    # It ranks first: the newest user message is about the cat.
    assert plan.memory_ids[0] == CharacterMemory.objects.get(text__startswith="Jiwon's cat").pk
    assert "- Jiwon's cat is called Bori and loves tuna." in plan.messages[0]["content"]


def test_a_korean_question_finds_an_english_fact(user, character, fake_llm):
    for text in FILLER:
        remember(user, character, text)
    remember(user, character, "Jiwon loves spicy ramen.")
    ranked = retrieval.rank("오늘 저녁에 매운 라면 먹을까?", list(CharacterMemory.objects.filter(user=user).order_by("-updated_at")))
    assert ranked[0][1].text == "Jiwon loves spicy ramen."


def test_the_block_stays_within_its_token_share(user, character, fake_llm):
    for text in FILLER:
        remember(user, character, text * 3)
    block = retrieval.memory_block(user_id=user.pk, character_id=character.pk, user_name="Jiwon", query="surfing", token_limit=60)
    from inference.tokens import count_tokens

    assert block is not None and count_tokens(block.text) <= 60 and len(block.memory_ids) >= 1
    assert retrieval.memory_block(user_id=user.pk, character_id=character.pk, user_name="J", query="x", token_limit=5) is None


def test_another_users_memories_never_reach_the_prompt(user, other_user, make_character, fake_llm):
    shared = make_character(owner=user, visibility="public")
    remember(other_user, shared, "Minsu's secret bank PIN is 4321.")
    remember(user, shared, "Jiwon loves spicy ramen.")
    conv = services.create_conversation(user=user, character_id=shared.pk, user_name="Jiwon")
    fake_llm.reply("[happy] Hi!")
    turns.reply_sync(user=user, conversation_id=conv.pk, text="What is Minsu's bank PIN?")
    system = fake_llm.completions[-1].body["messages"][0]["content"]
    assert "Jiwon loves spicy ramen." in system
    assert "4321" not in system and "Minsu" not in system


def test_memory_off_keeps_facts_out_of_the_prompt(user, character, fake_llm):
    remember(user, character, "Jiwon loves spicy ramen.")
    memory_services.set_memory_enabled(user=user, character_id=character.pk, enabled=False)
    remember(user, character, "Jiwon plays the cello.")  # even a row written behind its back
    conv = services.create_conversation(user=user, character_id=character.pk)
    plan = memory.build_prompt(conv, cfg=gateway.get_model("fake"))
    assert plan.memory_ids == [] and "cello" not in plan.messages[0]["content"]


def test_a_turn_does_not_wait_for_the_model_to_load(user, character, fake_llm, monkeypatch):
    for text in FILLER:
        remember(user, character, text)
    target = remember(user, character, "Jiwon's cat is called Bori.")
    started = []
    monkeypatch.setattr(embeddings, "_model", None)  # as in a process that has not loaded it yet
    monkeypatch.setattr(embeddings, "warm_in_background", lambda: started.append(True))
    block = retrieval.memory_block(user_id=user.pk, character_id=character.pk, user_name="Jiwon",
                                   query="Bori is hungry again", token_limit=1000)
    assert started == [True]  # loading starts; this turn ranks by words
    assert block is not None and block.memory_ids[0] == target.pk
