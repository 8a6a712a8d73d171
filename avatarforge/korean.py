"""Korean particles (조사) after interpolated words.

A Korean translation can not know the word it will follow ("%(name)s와(과) 대화하기"), so the
catalog writes both forms with the second in parentheses: 이(가), 은(는), 을(를), 와(과), (으)로,
아(야). `resolve_particles` picks the one that fits the word before it, once the text is final:

- the last syllable of the word decides: a Hangul syllable has a final consonant (받침) when
  (code - 0xAC00) % 28 != 0, and (으)로 treats a final ㄹ like no final consonant (서울로);
- a number is read in Sino-Korean (1 일, 3 삼, 6 육, 10 십...), a Latin letter alone as its name (L 엘,
  M 엠, N 엔, R 알) and a Latin word by how it ends (…l, …m, …n, …ng have one: "Pixel을");
- closing quotes, brackets, tags and HTML entities between the word and the particle are looked through;
- when nothing tells (an emoji, a symbol), both forms stay as they are, which is how Korean
  writes an unknown case.
"""
from __future__ import annotations

import re

HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3
RIEUL = 8  # index of ㄹ among the 28 final consonants (0 = none)

# particle written in the catalog -> (form after a final consonant, form after none)
_PAIRS: dict[str, tuple[str, str]] = {
    "이(가)": ("이", "가"), "가(이)": ("이", "가"),
    "은(는)": ("은", "는"), "는(은)": ("은", "는"),
    "을(를)": ("을", "를"), "를(을)": ("을", "를"),
    "과(와)": ("과", "와"), "와(과)": ("과", "와"),
    "아(야)": ("아", "야"), "야(아)": ("아", "야"),
    "이나(나)": ("이나", "나"), "(이)나": ("이나", "나"),
    "(이)라": ("이라", "라"), "(이)에요": ("이에요", "예요"),
    "(으)로": ("으로", "로"),
}
_PATTERN = re.compile("|".join(re.escape(k) for k in sorted(_PAIRS, key=len, reverse=True)))

# Sino-Korean readings' final consonant index (0 none, RIEUL, or another) for 0-9.
_DIGIT_FINAL = {"0": 21, "1": RIEUL, "2": 0, "3": 16, "4": 0, "5": 0, "6": 1, "7": RIEUL, "8": RIEUL, "9": 0}
# A Latin letter read alone (its Korean name): which end in a consonant.
_LETTER_FINAL = {"l": RIEUL, "m": 16, "n": 4, "r": RIEUL}
# Skipped between a word and its particle: closing quotes and brackets, and HTML entities
# (a template escapes "Tom & Jerry's" before the particle filter sees it).
_TRAILING = re.compile(r"(?:[\"'”’»)\]}]|&#?\w+;)+$")
_TAGS = re.compile(r"<[^<>]*>$")


def final_consonant(word: str) -> int | None:
    """The final consonant index (0 = none) of how `word` ends when read aloud, or None when
    nothing tells."""
    text = word
    while True:  # look through closing quotes, brackets, entities and tags
        stripped = _TAGS.sub("", _TRAILING.sub("", text))
        if stripped == text:
            break
        text = stripped
    if not text:
        return None
    last = text[-1]
    code = ord(last)
    if HANGUL_FIRST <= code <= HANGUL_LAST:
        return (code - HANGUL_FIRST) % 28
    if last in _DIGIT_FINAL:  # 0 영, and 10 십, 100 백, 1000 천, 10000 만 all end in one too
        return _DIGIT_FINAL[last]
    if last.isascii() and last.isalpha():
        letters = re.search(r"[A-Za-z]+$", text).group(0).lower()
        if len(letters) == 1:
            return _LETTER_FINAL.get(letters, 0)
        if letters.endswith("ng"):
            return 21
        return _LETTER_FINAL.get(letters[-1], 0) if letters[-1] in "lmn" else 0
    return None


def resolve_particles(text: str) -> str:
    """`text` with each paired particle (이(가), 와(과), (으)로...) replaced by the one that fits
    the word before it; pairs after something that does not tell are left as written."""
    if "(" not in text:
        return text

    def pick(match: re.Match[str]) -> str:
        final = final_consonant(text[: match.start()])
        if final is None:
            return match.group(0)
        with_final, without = _PAIRS[match.group(0)]
        if match.group(0) == "(으)로" and final == RIEUL:
            return without
        return with_final if final else without

    return _PATTERN.sub(pick, text)
