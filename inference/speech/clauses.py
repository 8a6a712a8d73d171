"""Split streaming LLM text into clauses to synthesize one at a time.

The first clause may end at a comma (to start speaking early); later ones end at sentence
punctuation (Korean and English), or at a comma once they are long, so TTS gets natural units.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

_SENTENCE_END = set(".!?。！？…\n")
_COMMA = set(",，、;；:：")
_CLOSERS = set("\"'”’)]」』")
MIN_FIRST = 4  # characters: "Hi," is a clause; "A," is not
LONG_CLAUSE = 80  # later clauses also break at a comma past this length
MAX_CLAUSE = 220  # and at a space past this one, so one clause never stalls the audio


class ClauseSplitter:
    def __init__(self) -> None:
        self._buffer = ""
        self._emitted = 0

    def feed(self, text: str) -> Iterator[str]:
        """Add streamed text; yield each clause that is complete."""
        self._buffer += text
        while True:
            cut = self._find_cut()
            if cut is None:
                return
            clause, self._buffer = self._buffer[:cut].strip(), self._buffer[cut:]
            if clause:
                self._emitted += 1
                yield clause

    def flush(self) -> Iterator[str]:
        """The rest when the stream ends."""
        rest, self._buffer = self._buffer.strip(), ""
        if rest:
            self._emitted += 1
            yield rest

    def _find_cut(self) -> int | None:
        text = self._buffer
        for i, ch in enumerate(text):
            if ch in _SENTENCE_END or (ch in _COMMA and self._comma_ends(text, i)):
                # A decimal point or an abbreviation-like "3.5" is not an end: wait for what follows.
                if i + 1 >= len(text):
                    return None
                if ch == "." and text[i + 1].isdigit():
                    continue
                end = i + 1
                while end < len(text) and (text[end] in _CLOSERS or text[end] in _SENTENCE_END):
                    end += 1
                if end >= len(text):
                    return None  # more punctuation may still arrive ("?!", a closing quote)
                if not text[end].isspace() and ch in ".,":
                    continue  # "e.g" / "1,000": not a boundary
                return end
            if i >= MAX_CLAUSE and ch.isspace():
                return i
        return None

    def _comma_ends(self, text: str, index: int) -> bool:
        length = len(text[:index].strip())
        return length >= MIN_FIRST if self._emitted == 0 else length >= LONG_CLAUSE


def split_text(text: str) -> list[str]:
    """All clauses of a finished text."""
    splitter = ClauseSplitter()
    clauses = list(splitter.feed(text))
    clauses.extend(splitter.flush())
    return clauses


_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    return _SPACES.sub(" ", text).strip()
