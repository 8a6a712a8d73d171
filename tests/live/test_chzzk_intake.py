"""The real Chzzk intake client against a fake Chzzk that speaks its protocol (Socket.IO 2.x)."""
from __future__ import annotations

import asyncio

import pytest

from live.intake.base import StreamEvent
from live.intake.chzzk import ChzzkApi, ChzzkCredentials, ChzzkIntake
from tests.support.fake_chzzk import FakeChzzk


class Recorder:
    def __init__(self) -> None:
        self.events: list[StreamEvent] = []
        self.states: list[str] = []
        self.got_event = asyncio.Event()

    async def on_event(self, event: StreamEvent) -> None:
        self.events.append(event)
        self.got_event.set()

    async def on_state(self, state: str, detail: str) -> None:
        self.states.append(state)


async def _until(predicate, timeout: float = 10.0) -> None:
    async def poll():
        while not predicate():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout)


def _intake(fake: FakeChzzk, **creds) -> ChzzkIntake:
    credentials = ChzzkCredentials(client_id=fake.client_id, client_secret=fake.client_secret, **creds)
    return ChzzkIntake(ChzzkApi(fake.base_url, credentials), backoff_base=0.05, backoff_max=0.2)


async def test_client_session_connects_subscribes_and_relays_chat_donation_subscription():
    async with FakeChzzk() as fake:
        intake, rec = _intake(fake), Recorder()
        task = asyncio.create_task(intake.run(rec.on_event, rec.on_state))
        await asyncio.wait_for(fake.subscribed.wait(), 10)
        await _until(lambda: len(fake.subscriptions) == 3)
        assert sorted(kind for kind, _ in fake.subscriptions) == ["chat", "donation", "subscription"]
        await fake.send_chat("viewer-1", "Mina", "안녕하세요!", message_time=1_700_000_000_000)
        await fake.send_donation("viewer-2", "Big <b>Fan</b>", 1000, "노래 불러줘")
        await fake.send_subscription("viewer-3", "Sub", 2, 3)
        await _until(lambda: len(rec.events) == 3)
        chat, donation, sub = rec.events
        assert (chat.kind, chat.viewer_id, chat.nickname, chat.text, chat.sent_at_ms) == (
            "chat", "viewer-1", "Mina", "안녕하세요!", 1_700_000_000_000)
        assert (donation.kind, donation.amount, donation.nickname, donation.text) == (
            "donation", 1000, "Big <b>Fan</b>", "노래 불러줘")  # kept as text; the overlay renders text
        assert (sub.kind, sub.tier, sub.months) == ("subscription", 2, 3)
        assert "subscribed" in rec.states
        await intake.stop()
        await asyncio.wait_for(task, 10)
        assert rec.states[-1] == "stopped"
        await intake.api.close()


async def test_user_session_uses_the_streamer_token_and_payload_objects():
    async with FakeChzzk(json_strings=False) as fake:
        intake, rec = _intake(fake, access_token=fake.access_token), Recorder()
        task = asyncio.create_task(intake.run(rec.on_event, rec.on_state))
        await asyncio.wait_for(fake.subscribed.wait(), 10)
        await fake.send_chat("viewer-1", "Mina", "hello")
        await _until(lambda: rec.events)
        assert rec.events[0].text == "hello"
        await intake.stop()
        await asyncio.wait_for(task, 10)
        await intake.api.close()


async def test_reconnects_with_a_fresh_url_after_a_drop_and_keeps_relaying():
    async with FakeChzzk() as fake:
        intake, rec = _intake(fake), Recorder()
        task = asyncio.create_task(intake.run(rec.on_event, rec.on_state))
        await asyncio.wait_for(fake.subscribed.wait(), 10)
        await fake.drop_all()
        await asyncio.wait_for(fake.subscribed.wait(), 10)  # subscribed again on a new session
        assert fake.session_urls_issued == 2 and fake.connections == 2
        assert "reconnecting" in rec.states
        await fake.send_chat("viewer-9", "Back", "still here?")
        await _until(lambda: rec.events)
        assert rec.events[-1].text == "still here?"
        await intake.stop()
        await asyncio.wait_for(task, 10)
        await intake.api.close()


async def test_revoked_session_ends_the_intake_without_reconnecting():
    async with FakeChzzk() as fake:
        intake, rec = _intake(fake), Recorder()
        task = asyncio.create_task(intake.run(rec.on_event, rec.on_state))
        await asyncio.wait_for(fake.subscribed.wait(), 10)
        await fake.revoke()
        await asyncio.wait_for(task, 10)
        assert "revoked" in rec.states
        assert fake.session_urls_issued == 1
        await intake.api.close()


async def test_refused_credentials_fail_without_retry_loop():
    async with FakeChzzk(refuse_auth=True) as fake:
        intake, rec = _intake(fake), Recorder()
        await asyncio.wait_for(intake.run(rec.on_event, rec.on_state), 10)
        assert rec.states[-2:] == ["failed", "stopped"]
        await intake.api.close()


@pytest.mark.parametrize("payload", [
    '{"senderChannelId": 5, "content": "x"}', "not json", '["a"]',
    {"senderChannelId": "v", "content": None}, {"senderChannelId": "v", "content": "   "},
])
def test_hostile_chat_payloads_are_dropped(payload):
    from live.intake.chzzk_events import parse_chat
    assert parse_chat(payload) is None


def test_text_is_cleaned_and_emojis_are_allow_listed():
    from live.intake.chzzk_events import parse_chat
    event = parse_chat({
        "senderChannelId": "v1", "channelId": "c", "content": "hi\u202e there\x00\nfriend",
        "profile": {"nickname": "\u202eevil" + "n" * 100},
        "emojis": {"{:ok:}": "https://ssl.pstatic.net/static/nng/glive/icon/ok.png",
                   "{:x:}": "javascript:alert(1)", "{:y:}": "https://evil.example/a.png"},
    })
    assert event.text == "hi there friend"
    assert event.nickname == "evil" + "n" * 36
    assert event.emojis == {"{:ok:}": "https://ssl.pstatic.net/static/nng/glive/icon/ok.png"}
