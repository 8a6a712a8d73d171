"""A loop detector for streamed replies: small models fall into repeating the same words ("That
is a riddle to answer, and I will give you the answer..." for minutes). Fed the reply's text as
it streams, it says when the recent words repeat a word n-gram too often, and where to cut so
the reply keeps its first occurrence and ends before the repetition.

Words are runs of letters and digits (Hangul included), compared case-insensitively; punctuation
and spacing do not hide a loop. A refrain said twice is fine: an n-gram must come back
`repeats` times within the last `window` words (defaults: a 6-word n-gram, 3 times in 120 words;
a period of 3-40 words is caught within its third round, about 2 s at 30 tokens/s).
"""
from __future__ import annotations

import re
from collections import defaultdict

_WORD = re.compile(r"\w+", re.UNICODE)


class LoopDetector:
    def __init__(self, *, ngram: int = 6, repeats: int = 3, window: int = 120) -> None:
        if ngram < 2 or repeats < 2 or window < ngram * repeats:
            raise ValueError("window must hold `repeats` n-grams of at least 2 words")
        self.ngram, self.repeats, self.window = ngram, repeats, window
        self.text = ""
        self._words: list[tuple[str, int]] = []  # (lower-cased word, offset in text)
        self._scanned = 0  # characters of text already split into finished words
        self.cut_at: int | None = None  # where the reply should end, once a loop is seen

    def feed(self, chunk: str) -> bool:
        """Add streamed text; True once the reply loops (and from then on)."""
        if self.cut_at is not None:
            return True
        self.text += chunk
        # Only words followed by a non-word character are finished ("answ" may become "answer").
        for match in _WORD.finditer(self.text, self._scanned):
            if match.end() == len(self.text):
                break
            self._words.append((match.group(0).lower(), match.start()))
            self._scanned = match.end()
        return self._check()

    def _check(self) -> bool:
        words = self._words[-self.window:]
        n = self.ngram
        if len(words) < n * self.repeats:
            return False
        seen: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for i in range(len(words) - n + 1):
            key = tuple(w for w, _ in words[i:i + n])
            starts = seen[key]
            # Overlapping matches are one run ("a a a a a a a"): count only non-overlapping ones.
            if starts and i - starts[-1] < n:
                continue
            starts.append(i)
            if len(starts) >= self.repeats:
                # Keep the first round; cut where the second one starts.
                self.cut_at = words[starts[1]][1]
                return True
        return False

    def kept_text(self) -> str:
        """The reply up to the loop (all of it when there is none), without a dangling tail."""
        if self.cut_at is None:
            return self.text
        return self.text[: self.cut_at].rstrip(" \t\n,;:-—")
