"""Reading the emotion of a reply, defensively: never an error, unknown -> neutral."""
from __future__ import annotations

import pytest

from chat.emotions import EMOTIONS, EmotionStreamParser, normalize_emotion, parse_reply


def stream(chunks: list[str]) -> tuple[str | None, str, list[str]]:
    parser = EmotionStreamParser()
    out = [parser.feed(c) for c in chunks]
    out.append(parser.finish())
    return parser.emotion, "".join(out), out


@pytest.mark.parametrize(
    ("chunks", "emotion", "text"),
    [
        (["[happy] Hello there"], "happy", "Hello there"),
        (["[hap", "py]", " Hel", "lo"], "happy", "Hello"),
        (["  <sad> oh no"], "sad", "oh no"),
        (["(angry) Go away"], "angry", "Go away"),
        (["*surprised* What?"], "surprised", "What?"),
        (["Emotion: excited\nLet's go!"], "excited", "Let's go!"),
        (["[Joy] yay"], "happy", "yay"),
        (["[기쁨] 안녕"], "happy", "안녕"),
        (["[EXCITED]: Wow"], "excited", "Wow"),
        (["[happy]", " ", "[note] stays"], "happy", "[note] stays"),
        (["plain reply"], "neutral", "plain reply"),
        (["[unknown] reply"], "neutral", "[unknown] reply"),
        (["["], "neutral", "["),
        ([""], "neutral", ""),
        (['{"emotion": "sad", "response": "I miss you"}'], "sad", "I miss you"),
        (['{"emot', 'ion":"angry","reply":"No\\n\\"way\\" \\uc548', '\\ub155"}'], "angry", 'No\n"way" 안녕'),
        (['{"response": "hi", "emotion": "bogus"}'], "neutral", "hi"),
        (['{"foo": 1}'], "neutral", '{"foo": 1}'),
        (['{broken json'], "neutral", "{broken json"),
    ],
)
def test_parser(chunks, emotion, text):
    got_emotion, got_text, _out = stream(chunks)
    assert (got_emotion, got_text) == (emotion, text)


def test_text_streams_as_soon_as_the_tag_is_read():
    _e, _t, out = stream(["[happy]", " Hi", " there"])
    assert out == ["", "Hi", " there", ""]


def test_json_reply_streams_incrementally():
    _e, _t, out = stream(['{"emotion":"happy","response":"Hel', 'lo wor', 'ld"}'])
    assert out[:3] == ["Hel", "lo wor", "ld"]


def test_huge_or_hostile_input_never_raises():
    for text in ["[" * 10000, "{" * 5000, "\x00\x01", "emotion:" * 100, '{"response": "\\u12']:
        emotion, shown = parse_reply(text)
        assert emotion in EMOTIONS and isinstance(shown, str)


def test_normalize():
    assert normalize_emotion(" Happy ") == "happy"
    assert normalize_emotion("emotion: sad") == "sad"
    assert normalize_emotion(None) is None and normalize_emotion(3) is None and normalize_emotion("meh") is None
