"""chat.services.truncate_reply_to_heard: a barged-in reply keeps only what was heard."""
from __future__ import annotations

import pytest

from avatarforge.errors import AppError
from chat import services, turns
from chat.models import Message

pytestmark = pytest.mark.django_db


def reply(user, conversation, fake_llm, text="[happy] One two three. Four five six."):
    fake_llm.reply(text)
    return turns.reply_sync(user=user, conversation_id=conversation.pk, text="Count")[1]


def test_keeps_the_heard_prefix_and_marks_it_stopped(user, conversation, fake_llm):
    message = reply(user, conversation, fake_llm)
    kept = services.truncate_reply_to_heard(user=user, message_id=message.pk, text="One two three.")
    assert (kept.text, kept.status) == ("One two three.", Message.Status.CANCELLED)
    message.refresh_from_db()
    assert message.text == "One two three." and message.token_count > 0


def test_nothing_heard_deletes_the_reply(user, conversation, fake_llm):
    message = reply(user, conversation, fake_llm)
    count = conversation.messages.count()
    assert services.truncate_reply_to_heard(user=user, message_id=message.pk, text="") is None
    assert conversation.messages.count() == count - 1
    conversation.refresh_from_db()
    assert conversation.message_count == count - 1


def test_text_that_was_not_said_is_refused(user, conversation, fake_llm):
    message = reply(user, conversation, fake_llm)
    with pytest.raises(AppError) as info:
        services.truncate_reply_to_heard(user=user, message_id=message.pk, text="Something else")
    assert info.value.code == "invalid"
    message.refresh_from_db()
    assert message.text == "One two three. Four five six."


def test_only_the_owner_can_cut(user, other_user, conversation, fake_llm):
    message = reply(user, conversation, fake_llm)
    with pytest.raises(AppError) as info:
        services.truncate_reply_to_heard(user=other_user, message_id=message.pk, text="One")
    assert info.value.code == "not_found"
