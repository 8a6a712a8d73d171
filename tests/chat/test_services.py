"""Conversation services: create, start a reply, limits, delete (the REST reply: test_turns.py)."""
from __future__ import annotations

import pytest

from accounts.models import Plan
from avatarforge.errors import AppError, Conflict, LimitExceeded, NotFound
from chat import services
from chat.models import Conversation, Message, Summary

pytestmark = pytest.mark.django_db


def test_create_conversation_opens_with_the_greeting(user, character, fake_llm):
    conv = services.create_conversation(user=user, character_id=character.pk, user_name="Jun")
    assert conv.title == "Mina"
    (greeting,) = conv.messages.all()
    assert (greeting.seq, greeting.role, greeting.text) == (1, "assistant", "Hi Jun! I'm Mina.")
    assert greeting.token_count > 0
    assert conv.message_count == 1


def test_cannot_start_with_someone_elses_private_character(other_user, character, fake_llm):
    with pytest.raises(NotFound):
        services.create_conversation(user=other_user, character_id=character.pk)
    assert not Conversation.objects.exists()


def test_public_character_of_another_user(other_user, make_character, user, fake_llm):
    public = make_character(owner=user, visibility="public", name="Sol")
    conv = services.create_conversation(user=other_user, character_id=public.pk)
    assert conv.user == other_user


def test_unknown_model_is_refused(user, character, fake_llm):
    with pytest.raises(AppError) as info:
        services.create_conversation(user=user, character_id=character.pk, model_name="gpt-99")
    assert info.value.code == "unknown_model"


def test_one_reply_in_flight_per_conversation(user, conversation, fake_llm):
    services.start_reply(user=user, conversation_id=conversation.pk, text="first")
    with pytest.raises(Conflict) as info:
        services.start_reply(user=user, conversation_id=conversation.pk, text="second")
    assert info.value.code == "reply_in_progress"
    assert conversation.messages.count() == 3


def test_plan_limit_on_concurrent_conversations(user, make_character, fake_llm):
    assert user.plan.concurrent_conversations == 1
    a = services.create_conversation(user=user, character_id=make_character(owner=user).pk)
    b = services.create_conversation(user=user, character_id=make_character(owner=user, name="B").pk)
    services.start_reply(user=user, conversation_id=a.pk, text="hi")
    with pytest.raises(LimitExceeded):
        services.start_reply(user=user, conversation_id=b.pk, text="hi")
    assert b.messages.count() == 1
    user.plan = Plan.objects.get(code="pro")
    user.save()
    services.start_reply(user=user, conversation_id=b.pk, text="hi")


def test_stale_in_flight_reply_does_not_block(user, conversation, fake_llm):
    from datetime import timedelta

    from django.utils import timezone

    _u, reply = services.start_reply(user=user, conversation_id=conversation.pk, text="first")
    Message.objects.filter(pk=reply.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    services.start_reply(user=user, conversation_id=conversation.pk, text="second")
    reply.refresh_from_db()
    assert (reply.status, reply.error_code) == ("failed", "interrupted")


def test_message_limits(user, conversation, fake_llm):
    with pytest.raises(AppError) as info:
        services.start_reply(user=user, conversation_id=conversation.pk, text="   ")
    assert info.value.code == "empty_message"
    with pytest.raises(AppError) as info:
        services.start_reply(user=user, conversation_id=conversation.pk, text="x" * 4001)
    assert info.value.code == "message_too_long"


def test_character_made_private_stops_replies(user, other_user, make_character, fake_llm):
    public = make_character(owner=user, visibility="public")
    conv = services.create_conversation(user=other_user, character_id=public.pk)
    public.visibility = "private"
    public.save()
    with pytest.raises(NotFound) as info:
        services.start_reply(user=other_user, conversation_id=conv.pk, text="hi")
    assert info.value.code == "character_unavailable"


def test_delete_removes_messages_and_summaries(user, conversation, fake_llm):
    Summary.objects.create(conversation=conversation, level=0, start_seq=1, end_seq=1, text="x", token_count=1)
    services.delete_conversation(user=user, conversation_id=conversation.pk)
    assert not Conversation.objects.exists()
    assert not Message.objects.exists() and not Summary.objects.exists()


def test_others_cannot_delete(other_user, conversation):
    with pytest.raises(NotFound):
        services.delete_conversation(user=other_user, conversation_id=conversation.pk)
    assert Conversation.objects.filter(pk=conversation.pk).exists()
