"""Which of our languages (en, ko) a text is written in, from its script: Hangul or Latin.

Used to answer in the language the person wrote (chat replies) and to check that generated text
is in the language asked for (the character wizard, the chat quality bench). Only the script is
looked at, so this is cheap and needs no model; it cannot tell English from French, which is
fine for the two interface languages.

Words are counted, not letters: "오늘 YouTube 봤어" (two Hangul words, one Latin) is Korean,
"I love 김치" is English. A tie goes to Korean (a Korean writer who quotes an English word is
far more common than the reverse). Text with neither script (emoji, numbers, "?") is None.
"""
from __future__ import annotations

import re

KOREAN, ENGLISH = "ko", "en"

_WORD = re.compile(r"\w+", re.UNICODE)
# Hangul syllables, jamo and compatibility jamo (ㅋㅋ, ㅠㅠ are Korean too).
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


def script_counts(text: str) -> tuple[int, int]:
    """(words with Hangul, words with Latin letters and no Hangul) in text."""
    hangul = latin = 0
    for word in _WORD.findall(text or ""):
        if _HANGUL.search(word):
            hangul += 1
        elif _LATIN.search(word):
            latin += 1
    return hangul, latin


def detect_language(text: str) -> str | None:
    """"ko", "en", or None when the text has no Hangul or Latin words."""
    hangul, latin = script_counts(text)
    if not hangul and not latin:
        return None
    return KOREAN if hangul >= latin else ENGLISH


def language_share(text: str, language: str) -> float:
    """The share (0..1) of the text's Hangul/Latin words that are in `language`; 1.0 when it has
    none (nothing contradicts the language)."""
    hangul, latin = script_counts(text)
    total = hangul + latin
    if not total:
        return 1.0
    return (hangul if language == KOREAN else latin) / total
