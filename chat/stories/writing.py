"""How a story is asked for and read back: pure functions, no I/O.

The model is asked to start every chapter with a Markdown heading line ("## Title"). Models do not
always obey, so `split_chapters` also takes "Chapter 3: ...", "**Chapter 3**", "제3장 ..." lines
as chapter starts, and a story without any marker is one chapter with an empty title.

Words are counted as whitespace-separated pieces that hold at least one letter or digit: for
Korean that is the eojeol (어절, the space-separated unit Korean word counts use), for English the
usual word; a lone "—" or "*" is not a word. Chapter titles are not counted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from avatarforge.language import KOREAN, detect_language

MAX_PROMPT_CHARS = 2000


@dataclass(frozen=True)
class Length:
    words: int  # target length of the whole story
    chapters: int


# The seed's example is a "medium" story of 500 words in 3 chapters.
LENGTHS: dict[str, Length] = {
    "short": Length(words=250, chapters=2),
    "medium": Length(words=500, chapters=3),
    "long": Length(words=1000, chapters=5),
}

# The fixed set of styles (the API documents it as an enum), each as the prompt describes it.
STYLES: dict[str, str] = {
    "general": "a story in any genre that fits the prompt",
    "fantasy": "a fantasy story (magic, quests, mythical creatures)",
    "sci_fi": "a science-fiction story",
    "mystery": "a mystery story with clues and a reveal",
    "romance": "a romance story",
    "horror": "a horror story, eerie rather than gory",
    "comedy": "a light, funny story",
    "adventure": "an adventure story",
    "fairy_tale": "a fairy tale for children, gentle and simple",
    "slice_of_life": "a quiet slice-of-life story about everyday moments",
}

# Tokens asked for per target word: Korean eojeol take about 3 tokens in common tokenizers, English
# words about 1.4; the rest is room for headings. The gateway caps it at the model's max_tokens.
_TOKENS_PER_WORD = {KOREAN: 3.0, "en": 1.6}


def story_language(prompt: str, fallback: str) -> str:
    """The story is written in the prompt's language (Hangul -> Korean), else the page's."""
    return detect_language(prompt) or (KOREAN if fallback.startswith(KOREAN) else "en")


def max_tokens_for(length: str, language: str) -> int:
    return int(LENGTHS[length].words * _TOKENS_PER_WORD[language]) + 64


def build_messages(*, prompt: str, length: str, style: str, language: str) -> list[dict[str, str]]:
    target = LENGTHS[length]
    heading = "## 제1장: 시작" if language == KOREAN else "## Chapter 1: The Beginning"
    written_in = "Korean (한국어)" if language == KOREAN else "English"
    system = (
        f"You are a storyteller. Write {STYLES[style]} of about {target.words} words in {target.chapters} chapters, "
        f"in {written_in}. Start every chapter with a heading line of its own, like:\n{heading}\n"
        "Then the chapter's text in plain paragraphs. No other headings, no notes before or after the story."
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": prompt}]


# A chapter start: a Markdown heading, or a line that begins with "Chapter N" / "제N장" / "N장",
# possibly in bold. Case-insensitive; the whole line is the marker.
_MARKER = re.compile(
    r"^[ \t]*(?:"
    r"#{1,6}[ \t]*(?P<heading>[^\n]*?)[ \t#]*"
    r"|(?P<line>\**[ \t]*(?:chapter[ \t]+\w+|제[ \t]*\d+[ \t]*장|\d+[ \t]*장)[^\n]*?)"
    r")[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class Chapter:
    title: str
    text: str


def _title(raw: str) -> str:
    return raw.replace("**", "").replace("__", "").strip().strip(":").strip()


def split_chapters(text: str) -> list[Chapter]:
    """The story's chapters, from its marker lines. Text before the first marker is a chapter of
    its own with an empty title; markers with nothing under them (a story title above "Chapter 1")
    are dropped; no marker at all (or no text under any) gives one chapter with an empty title."""
    text = text.strip()
    # A long "Chapter ..." line is a paragraph that starts with the word, not a heading.
    matches = [m for m in _MARKER.finditer(text) if m.group("heading") is not None or len(m.group(0).strip()) <= 80]
    chapters: list[Chapter] = []
    opening = text[: matches[0].start()].strip() if matches else ""
    if opening:
        chapters.append(Chapter(title="", text=opening))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        body = text[match.end():end].strip()
        if body:
            chapters.append(Chapter(title=_title(match.group("heading") or match.group("line") or ""), text=body))
    if not chapters or not any(c.title for c in chapters):
        return [Chapter(title="", text=text)] if text else []
    return chapters


_WORDISH = re.compile(r"\w", re.UNICODE)


def count_words(text: str) -> int:
    return sum(1 for piece in text.split() if _WORDISH.search(piece))


def join_story(chapters: list[Chapter]) -> str:
    """The whole story as plain text: each chapter's title (when it has one) above its text."""
    return "\n\n".join(f"{c.title}\n\n{c.text}" if c.title else c.text for c in chapters)
