"""Facts about the user are extracted after a conversation (Celery task, the LLM through the
gateway with a JSON schema), deduplicated, capped, and kept from nobody when memory is off."""
from __future__ import annotations

import pytest
from django.test import TestCase

from chat import services, turns
from chat.memories import services as memory_services
from chat.memories.extraction import FACTS_SCHEMA
from chat.models import CharacterMemory, Conversation

from .conftest import is_extraction

pytestmark = pytest.mark.django_db


def talk(user, conversation, text):
    # on_commit runs the (eager) extraction task right after the reply, as a worker would.
    with TestCase.captureOnCommitCallbacks(execute=True):
        turns.reply_sync(user=user, conversation_id=conversation.pk, text=text)


def test_a_finished_conversation_leaves_facts_with_vectors(user, character, facts_llm):
    conv = services.create_conversation(user=user, character_id=character.pk, user_name="Jiwon")
    facts_llm.facts.append(["Jiwon's name is Jiwon.", "Jiwon loves spicy ramen."])
    talk(user, conv, "Hi, I'm Jiwon and I love spicy ramen!")
    memories = list(CharacterMemory.objects.filter(user=user, character=character).order_by("pk"))
    assert [m.text for m in memories] == ["Jiwon's name is Jiwon.", "Jiwon loves spicy ramen."]
    assert all(m.embedding and len(bytes(m.embedding)) == 512 * 4 and m.source_conversation_id == conv.pk for m in memories)
    # The request asked for JSON by schema and showed the transcript.
    request = next(r for r in facts_llm.completions if is_extraction(r.body))
    assert request.body["response_format"]["json_schema"]["schema"] == FACTS_SCHEMA
    assert "Jiwon: Hi, I'm Jiwon and I love spicy ramen!" in request.body["messages"][-1]["content"]
    # Read messages are not read again.
    assert Conversation.objects.get(pk=conv.pk).memories_through_seq == conv.messages.order_by("-seq").first().seq


def test_only_new_messages_are_read_and_known_facts_are_shown(user, character, facts_llm):
    conv = services.create_conversation(user=user, character_id=character.pk, user_name="Jiwon")
    facts_llm.facts.append(["Jiwon has a cat named Bori."])
    talk(user, conv, "My cat Bori is sleeping.")
    facts_llm.facts.append(["Jiwon plays the cello."])
    talk(user, conv, "I practised the cello today.")
    second = [r for r in facts_llm.completions if is_extraction(r.body)][-1]
    transcript = second.body["messages"][-1]["content"]
    assert "cello" in transcript and "Bori" not in transcript
    assert "Jiwon has a cat named Bori." in second.body["messages"][-2]["content"]  # known facts listed
    assert CharacterMemory.objects.filter(user=user).count() == 2


def test_near_duplicates_refresh_instead_of_piling_up(user, character, facts_llm):
    conv = services.create_conversation(user=user, character_id=character.pk, user_name="Jiwon")
    facts_llm.facts.append(["Jiwon loves spicy ramen."])
    talk(user, conv, "Spicy ramen is the best.")
    facts_llm.facts.append(["Jiwon loves spicy ramen!", "jiwon loves spicy ramen.", "Jiwon works as a nurse."])
    talk(user, conv, "Ramen after my nursing shift, as always.")
    texts = sorted(CharacterMemory.objects.filter(user=user).values_list("text", flat=True))
    assert texts == ["Jiwon loves spicy ramen.", "Jiwon works as a nurse."]


def test_the_number_of_facts_is_capped_oldest_first(user, character, facts_llm, monkeypatch):
    monkeypatch.setattr(memory_services, "MAX_MEMORIES", 3)
    conv = services.create_conversation(user=user, character_id=character.pk, user_name="Jiwon")
    facts_llm.facts.append(["Jiwon was born in Daegu.", "Jiwon has two brothers."])
    talk(user, conv, "Some family history.")
    facts_llm.facts.append(["Jiwon collects vinyl records.", "Jiwon is learning to surf."])
    talk(user, conv, "And my hobbies.")
    texts = set(CharacterMemory.objects.filter(user=user).values_list("text", flat=True))
    assert len(texts) == 3 and "Jiwon is learning to surf." in texts and "Jiwon collects vinyl records." in texts


def test_memory_off_stores_nothing_and_what_was_said_meanwhile_is_never_read(user, character, facts_llm):
    conv = services.create_conversation(user=user, character_id=character.pk, user_name="Jiwon")
    facts_llm.facts.append(["Jiwon loves spicy ramen."])
    talk(user, conv, "I love spicy ramen.")
    assert CharacterMemory.objects.filter(user=user).count() == 1
    memory_services.set_memory_enabled(user=user, character_id=character.pk, enabled=False)
    assert CharacterMemory.objects.filter(user=user).count() == 0  # off deletes what was kept
    facts_llm.facts.append(["Jiwon's password hint is 'bori'."])
    talk(user, conv, "My password hint is bori.")
    assert CharacterMemory.objects.filter(user=user).count() == 0
    assert not any("password hint" in r.body["messages"][-1]["content"] for r in facts_llm.completions if is_extraction(r.body))
    # Back on: only what is said from now on is read.
    memory_services.set_memory_enabled(user=user, character_id=character.pk, enabled=True)
    facts_llm.facts.clear()
    facts_llm.facts.append(["Jiwon plays the cello."])
    talk(user, conv, "I play the cello.")
    request = [r for r in facts_llm.completions if is_extraction(r.body)][-1]
    assert "password" not in request.body["messages"][-1]["content"]
    assert list(CharacterMemory.objects.filter(user=user).values_list("text", flat=True)) == ["Jiwon plays the cello."]


def test_a_conversation_still_going_on_is_not_read_yet(user, character, facts_llm, settings):
    settings.MEMORY_IDLE_SECONDS = 600
    conv = services.create_conversation(user=user, character_id=character.pk)
    facts_llm.facts.append(["Jiwon loves spicy ramen."])
    talk(user, conv, "I love spicy ramen.")
    assert not any(is_extraction(r.body) for r in facts_llm.completions)
    assert memory_services.extract_memories(conversation_id=conv.pk)[1] > 500  # seconds still to wait
    assert CharacterMemory.objects.count() == 0


def test_a_bad_answer_keeps_nothing_and_leaves_the_messages_unread(user, character, facts_llm):
    conv = services.create_conversation(user=user, character_id=character.pk)
    facts_llm.responder = None
    facts_llm.reply("[happy] Nice!")
    facts_llm.reply('{"facts": "not a list"}')
    talk(user, conv, "I love spicy ramen.")  # the task fails (logged); the reply is kept
    assert len(facts_llm.completions) == 2
    assert conv.messages.filter(role="assistant", text="Nice!").exists()
    assert CharacterMemory.objects.count() == 0
    assert Conversation.objects.get(pk=conv.pk).memories_through_seq == 0


def test_live_mode_turns_neither_read_nor_extract_memories(user, character, facts_llm):
    from asgiref.sync import async_to_sync

    conv = services.create_conversation(user=user, character_id=character.pk)
    CharacterMemory.objects.create(user=user, character=character, text="Jiwon loves spicy ramen.")
    with TestCase.captureOnCommitCallbacks(execute=True):
        result = async_to_sync(turns.run_turn)(turns.TurnRequest(user=user, conversation_id=conv.pk, text="Hello chat",
                                                                   memories=False))
    assert result.status == "complete"
    chat_request = [r for r in facts_llm.completions if not is_extraction(r.body)][-1]
    assert "spicy ramen" not in chat_request.body["messages"][0]["content"]
    assert not any(is_extraction(r.body) for r in facts_llm.completions)


def test_deleting_a_conversation_forgets_what_was_learned_in_it(user, character, facts_llm):
    kept = services.create_conversation(user=user, character_id=character.pk, user_name="Jiwon")
    facts_llm.facts.append(["Jiwon plays the cello."])
    talk(user, kept, "I play the cello.")
    gone = services.create_conversation(user=user, character_id=character.pk, user_name="Jiwon")
    facts_llm.facts.append(["Jiwon has a cat named Bori."])
    talk(user, gone, "My cat Bori is asleep.")
    services.delete_conversation(user=user, conversation_id=gone.pk)
    assert list(CharacterMemory.objects.filter(user=user).values_list("text", flat=True)) == ["Jiwon plays the cello."]
