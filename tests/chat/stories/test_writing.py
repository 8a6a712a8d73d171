"""How a story is asked for and read back: chapters from marker lines, word counts, the prompt."""
from __future__ import annotations

from chat.stories.writing import (
    Chapter,
    build_messages,
    count_words,
    join_story,
    max_tokens_for,
    split_chapters,
    story_language,
)


def test_markdown_headings_split_chapters_and_a_story_title_above_them_is_dropped():
    text = "# The Dragon\n\n## Chapter 1: The Call\nArthur woke early.\n\nIt was cold.\n\n## Chapter 2: The Fight\nThe dragon roared.\n"
    assert split_chapters(text) == [
        Chapter("Chapter 1: The Call", "Arthur woke early.\n\nIt was cold."),
        Chapter("Chapter 2: The Fight", "The dragon roared."),
    ]


def test_chapter_lines_without_hashes_bold_or_korean_are_markers_too():
    assert split_chapters("**Chapter One**\nA.\nChapter 2: Two\nB.") == [Chapter("Chapter One", "A."), Chapter("Chapter 2: Two", "B.")]
    assert split_chapters("제1장 시작\n옛날 옛적에\n\n제 2 장: 끝\n끝났다") == [Chapter("제1장 시작", "옛날 옛적에"), Chapter("제 2 장: 끝", "끝났다")]


def test_text_before_the_first_marker_is_an_untitled_chapter():
    assert split_chapters("Once.\n## One\nA\n## Two\nB") == [Chapter("", "Once."), Chapter("One", "A"), Chapter("Two", "B")]


def test_a_story_without_markers_is_one_untitled_chapter():
    text = "Chapter after chapter of this long sentence went on and on, a paragraph, not a heading at all really.\nThe end."
    assert split_chapters(text) == [Chapter("", text)]
    assert split_chapters("  \n ") == []


def test_words_are_space_separated_pieces_with_a_letter_korean_counts_eojeol():
    assert count_words("옛날 옛적에 — 기사가 있었습니다.") == 4
    assert count_words("The knight, brave and tall - rode on!") == 7
    assert join_story([Chapter("One", "A b."), Chapter("", "C.")]) == "One\n\nA b.\n\nC."


def test_the_prompt_asks_for_the_length_style_language_and_marker_format():
    ko = build_messages(prompt="용감한 기사 이야기", length="long", style="fantasy", language=story_language("용감한 기사 이야기", "en"))
    assert "about 1000 words in 5 chapters" in ko[0]["content"] and "Korean (한국어)" in ko[0]["content"]
    assert "## 제1장: 시작" in ko[0]["content"] and "fantasy" in ko[0]["content"]
    assert ko[1] == {"role": "user", "content": "용감한 기사 이야기"}
    en = build_messages(prompt="A knight", length="short", style="mystery", language=story_language("A knight", "ko"))
    assert "about 250 words in 2 chapters" in en[0]["content"] and "in English" in en[0]["content"]
    # No letters to go by: the page's language.
    assert story_language("1234 !!", "ko") == "ko" and story_language("1234", "en") == "en"
    assert max_tokens_for("medium", "ko") > max_tokens_for("medium", "en")
