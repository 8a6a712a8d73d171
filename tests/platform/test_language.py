"""Which language a text is written in, from its script (avatarforge.language)."""
from __future__ import annotations

import pytest

from avatarforge.language import detect_language, language_share


@pytest.mark.parametrize("text, expected", [
    ("안녕하세요! 오늘 기분이 어때요?", "ko"),
    ("Hello, how are you today?", "en"),
    ("오늘 YouTube 봤어", "ko"),  # a quoted English word does not make it English
    ("I love 김치 so much", "en"),
    ("ㅋㅋㅋ", "ko"),  # compatibility jamo are Hangul
    ("안녕 hello", "ko"),  # a tie goes to Korean
    ("Café crème", "en"),  # Latin with accents
    ("😀 123 ?!", None),
    ("", None),
])
def test_detect_language(text, expected):
    assert detect_language(text) == expected


def test_language_share():
    assert language_share("안녕하세요 친구 hello", "ko") == pytest.approx(2 / 3)
    assert language_share("안녕하세요 친구 hello", "en") == pytest.approx(1 / 3)
    assert language_share("123", "ko") == 1.0
