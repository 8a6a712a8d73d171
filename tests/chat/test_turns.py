"""The one turn engine (chat.turns): the REST API's turn (reply_sync) and the listener/cancel
contract that the WebSocket, voice and live mode rely on."""
from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async

from avatarforge.errors import AppError
from chat import services, turns
from chat.models import Message
from tests.support.fake_openai import varied_words

pytestmark = pytest.mark.django_db


def test_reply_sync_stores_both_messages(user, conversation, fake_llm):
    fake_llm.reply("[happy] Nice to meet you!")
    user_msg, reply = turns.reply_sync(user=user, conversation_id=conversation.pk, text="Hello!")
    assert (user_msg.seq, reply.seq) == (2, 3)
    reply.refresh_from_db()
    assert (reply.status, reply.emotion, reply.text) == ("complete", "happy", "Nice to meet you!")
    assert reply.model_name == "fake" and reply.prompt_tokens > 0 and reply.token_count > 0
    conversation.refresh_from_db()
    assert conversation.message_count == 3 and conversation.last_emotion == "happy"
    assert conversation.title == "Hello!"
    sent = fake_llm.completions[-1].body["messages"]
    assert sent[0]["role"] == "system" and "Mina" in sent[0]["content"] and "[happy]" in sent[0]["content"]
    assert [m["role"] for m in sent[1:]] == ["user", "assistant", "user"]
    assert sent[-1]["content"] == "Hello!"


def test_a_turn_asks_for_a_constrained_emotion_tag_and_the_chat_reply_cap(user, conversation, fake_llm, settings):
    from chat.emotions import EMOTION_PREFIX, EMOTIONS
    from inference.llm.constrain import gbnf

    settings.LLM_MODELS = [fake_llm.model_config("fake", constrain="llama_grammar", max_tokens=512, chat_max_tokens=180)]
    fake_llm.reply("[sad] I miss the rain.")
    _u, reply = turns.reply_sync(user=user, conversation_id=conversation.pk, text="Hi")
    assert (reply.emotion, reply.text) == ("sad", "I miss the rain.")
    body = fake_llm.completions[-1].body
    assert body["grammar"] == gbnf(EMOTION_PREFIX) and body["max_tokens"] == 180
    assert {f"[{e}] " for e in EMOTIONS} == set(EMOTION_PREFIX.options)


def test_unparseable_emotion_becomes_neutral(user, conversation, fake_llm):
    fake_llm.reply("(giggles) whatever")
    _u, reply = turns.reply_sync(user=user, conversation_id=conversation.pk, text="Hi")
    assert (reply.emotion, reply.text) == ("neutral", "(giggles) whatever")


def test_llm_failure_leaves_nothing_behind(user, conversation, fake_llm):
    fake_llm.fail(401, "bad key")
    with pytest.raises(AppError) as info:
        turns.reply_sync(user=user, conversation_id=conversation.pk, text="Hi")
    assert info.value.code == "llm_auth_failed"
    assert list(conversation.messages.values_list("seq", flat=True)) == [1]
    conversation.refresh_from_db()
    assert conversation.message_count == 1


class Recorder(turns.TurnListener):
    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.first_token = asyncio.Event()

    async def on_accepted(self, user_message, reply, model) -> None:
        self.events.append(("accepted", reply.pk, model.name))

    async def on_start(self, reply_id, queue_ms, prompt_tokens) -> None:
        self.events.append(("start", reply_id))

    async def on_emotion(self, reply_id, emotion) -> None:
        self.events.append(("emotion", emotion))

    async def on_token(self, reply_id, text) -> None:
        self.events.append(("token", text))
        self.first_token.set()

    async def on_done(self, reply) -> None:
        self.events.append(("done", reply.text))

    async def on_cancelled(self, reply_id, reply) -> None:
        self.events.append(("cancelled", reply.status if reply else None))

    async def on_error(self, error, *, reply_id, returned_text) -> None:
        self.events.append(("error", error.code, reply_id, returned_text))


@pytest.mark.django_db(transaction=True)
async def test_the_result_keeps_the_model_text_as_it_came(user, character, fake_llm):
    fake_llm.reply("[surprised] Really? Tell me more!")
    conv = await database_sync_to_async(services.create_conversation)(user=user, character_id=character.pk)
    result = await turns.run_turn(turns.TurnRequest(user=user, conversation_id=conv.pk, text="Guess what"))
    assert result.raw_text == "[surprised] Really? Tell me more!"
    assert (result.reply.emotion, result.reply.text) == ("surprised", "Really? Tell me more!")


@pytest.mark.django_db(transaction=True)
async def test_a_turn_reports_each_step_once_and_stores_the_reply(user, character, fake_llm):
    fake_llm.reply("[happy] Hello there, friend!", token_rate=200)
    conv = await database_sync_to_async(services.create_conversation)(user=user, character_id=character.pk)
    listener = Recorder()
    result = await turns.run_turn(turns.TurnRequest(user=user, conversation_id=conv.pk, text="Hi!"), listener)
    assert result.status == "complete" and result.error is None
    kinds = [e[0] for e in listener.events]
    assert kinds[:3] == ["accepted", "start", "emotion"] and kinds[-1] == "done"
    assert "".join(e[1] for e in listener.events if e[0] == "token") == "Hello there, friend!"
    assert listener.events[2] == ("emotion", "happy")
    stored = await database_sync_to_async(Message.objects.get)(pk=result.reply.pk)
    assert (stored.status, stored.text, stored.emotion) == ("complete", "Hello there, friend!", "happy")
    assert len(fake_llm.completions) == 1  # one request, one prompt


@pytest.mark.django_db(transaction=True)
async def test_the_cancel_event_closes_the_upstream_stream(user, character, fake_llm):
    fake_llm.reply("[sad] " + varied_words(300, "slowly"), token_rate=40)
    conv = await database_sync_to_async(services.create_conversation)(user=user, character_id=character.pk)
    listener = Recorder()
    cancel = asyncio.Event()
    task = asyncio.create_task(turns.run_turn(
        turns.TurnRequest(user=user, conversation_id=conv.pk, text="A long story, please", cancel=cancel), listener))
    await asyncio.wait_for(listener.first_token.wait(), timeout=10)
    cancel.set()
    result = await asyncio.wait_for(task, timeout=10)  # the turn ends normally: no CancelledError
    assert result.status == "cancelled" and listener.events[-1] == ("cancelled", "cancelled")
    stored = await database_sync_to_async(Message.objects.get)(pk=result.reply.pk)
    assert stored.status == "cancelled" and stored.text.startswith("slowly") and stored.emotion == "sad"
    for _ in range(100):
        if fake_llm.completions[-1].disconnected:
            break
        await asyncio.sleep(0.05)
    assert fake_llm.completions[-1].disconnected  # the model server was told to stop
    assert fake_llm.completions[-1].tokens_sent < 300


@pytest.mark.django_db(transaction=True)
async def test_a_failing_listener_does_not_break_the_turn(user, character, fake_llm):
    class Broken(turns.TurnListener):
        async def on_token(self, reply_id, text) -> None:
            raise ConnectionError("socket closed")

    fake_llm.reply("[neutral] Still stored.")
    conv = await database_sync_to_async(services.create_conversation)(user=user, character_id=character.pk)
    result = await turns.run_turn(turns.TurnRequest(user=user, conversation_id=conv.pk, text="Hi"), Broken())
    assert result.status == "complete"
    stored = await database_sync_to_async(Message.objects.get)(pk=result.reply.pk)
    assert stored.text == "Still stored."


@pytest.mark.django_db(transaction=True)
async def test_a_failure_after_some_text_keeps_it_for_the_socket_but_not_for_rest(user, character, fake_llm):
    conv = await database_sync_to_async(services.create_conversation)(user=user, character_id=character.pk)
    fake_llm.reply("[happy] one two three four five", error_after_tokens=3)
    listener = Recorder()
    result = await turns.run_turn(turns.TurnRequest(user=user, conversation_id=conv.pk, text="Go"), listener)
    assert result.status == "failed" and result.reply is not None and result.reply.status == "failed"
    assert listener.events[-1][:3] == ("error", result.error.code, result.reply.pk)
    fake_llm.reply("[happy] one two three four five", error_after_tokens=3)
    rest = await turns.run_turn(turns.TurnRequest(user=user, conversation_id=conv.pk, text="Again", keep_partial=False,
                                                  wait_for_slot=False))
    assert rest.status == "failed" and rest.reply is None
    texts = await database_sync_to_async(lambda: list(conv.messages.order_by("seq").values_list("text", flat=True)))()
    assert "Again" not in texts and "Go" in texts


def test_a_reply_that_loops_is_cut_before_the_repetition_and_marked(user, conversation, fake_llm):
    loop = "That is a riddle to answer, and I will give you the answer. "
    fake_llm.reply("[happy] Oh, a riddle! " + loop * 40)
    _u, reply = turns.reply_sync(user=user, conversation_id=conversation.pk, text="Tell me a riddle")
    reply.refresh_from_db()
    assert reply.status == "complete" and reply.error_code == turns.REPLY_CUT_LOOP
    assert reply.text == "Oh, a riddle! That is a riddle to answer, and I will give you the answer."
    assert reply.emotion == "happy"


def test_a_reply_without_a_loop_is_not_marked(user, conversation, fake_llm):
    fake_llm.reply("[neutral] Sure. Row, row, row your boat; row, row, row your boat, gently down the stream.")
    _u, reply = turns.reply_sync(user=user, conversation_id=conversation.pk, text="Sing")
    reply.refresh_from_db()
    assert reply.error_code == "" and reply.text.endswith("gently down the stream.")
