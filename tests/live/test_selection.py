from live.intake.base import StreamEvent
from live.selection import ChatSelector, SelectionSettings, describe_batch


def chat(text: str, viewer: str = "v1", **extra) -> StreamEvent:
    return StreamEvent(kind="chat", viewer_id=viewer, nickname=viewer.upper(), text=text, channel_id="ch", **extra)


def test_filters_skip_with_a_reason_and_count_it():
    sel = ChatSelector(SelectionSettings(banned_words=("badword",)))
    cases = [
        (chat("a"), "too_short"),
        (chat("you BADWORD you"), "banned_word"),
        (chat("see https://x.example"), "link"),
        (chat("visit spam.com now"), "link"),
        (chat("ㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋ"), "flood"),
        (chat("hello from me", viewer="ch"), "streamer"),
    ]
    for event, reason in cases:
        verdict = sel.offer(event, now=0)
        assert (verdict.accepted, verdict.reason) == (False, reason)
    assert len(sel) == 0
    assert sel.skipped == {"too_short": 1, "banned_word": 1, "link": 2, "flood": 1, "streamer": 1}


def test_streamer_messages_pass_when_not_ignored():
    sel = ChatSelector(SelectionSettings(ignore_streamer=False))
    assert sel.offer(chat("hello from me", viewer="ch"), now=0).accepted


def test_repeats_and_per_viewer_rate():
    sel = ChatSelector(SelectionSettings(viewer_max_per_minute=2))
    assert sel.offer(chat("same thing", viewer="a"), now=0).accepted
    assert sel.offer(chat("Same   thing", viewer="b"), now=1).reason == "repeat"
    assert sel.offer(chat("second", viewer="a"), now=2).accepted
    assert sel.offer(chat("third", viewer="a"), now=3).reason == "rate"
    assert sel.offer(chat("fourth", viewer="a"), now=63).accepted  # the minute has passed


def test_bounded_queue_drops_oldest_and_counts():
    sel = ChatSelector(SelectionSettings(queue_size=3, batch_size=10))
    for i in range(5):
        sel.offer(chat(f"message {i}", viewer=f"v{i}"), now=i)
    assert sel.dropped == 2
    assert [e.text for e in sel.take_batch()] == ["message 2", "message 3", "message 4"]


def test_donations_first_then_chat_batches():
    sel = ChatSelector(SelectionSettings(batch_size=2))
    for i in range(3):
        sel.offer(chat(f"chat {i}", viewer=f"v{i}"), now=i)
    sel.offer(StreamEvent(kind="donation", viewer_id="d", nickname="Donor", text="sing!", amount=1000), now=5)
    first = sel.take_batch()
    assert [e.kind for e in first] == ["donation"]
    assert [e.text for e in sel.take_batch()] == ["chat 0", "chat 1"]
    assert [e.text for e in sel.take_batch()] == ["chat 2"]
    assert sel.take_batch() == []
    assert describe_batch(first) == "[donation 1000] Donor: sing!"


def test_settings_from_dict_ignores_unknown_and_normalizes_words():
    s = SelectionSettings.from_dict({"banned_words": [" Foo ", ""], "min_length": 5, "evil": 1})
    assert s.banned_words == ("foo",) and s.min_length == 5
