"""Viseme timelines (aa, ih, ou, ee, oh, silence) for every engine.

Three sources, best first:
- phoneme timings from the engine (Piper's alignments): exact;
- the audio's loudness envelope with the vowels of the text in order (Korean through jamo
  decomposition, other scripts through their vowel letters): the mouth opens when the audio is
  loud and takes the shape of the next vowel of the text;
- the envelope alone ("aa" scaled by loudness) when there is no text.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .types import VisemeEvent

# IPA (espeak-ng's phoneme set, as Piper emits it) to mouth shapes.
_IPA_VOWELS = {
    "a": "aa", "ɑ": "aa", "æ": "aa", "ʌ": "aa", "ɐ": "aa", "ə": "aa", "ɜ": "aa", "ɚ": "aa", "ᵻ": "ih",
    "i": "ih", "ɪ": "ih", "y": "ih", "ɨ": "ih",
    "e": "ee", "ɛ": "ee", "ø": "ee", "œ": "ee",
    "u": "ou", "ʊ": "ou", "ɯ": "ou", "w": "ou", "ɝ": "ou",
    "o": "oh", "ɔ": "oh", "ɒ": "oh", "ɤ": "oh",
}
_CLOSED = set("pbmɸβ")  # lips together
_PAUSES = set(" ,.;:!?—-…^$_\n")
_BEFORE = set("ˈˌ")  # stress marks belong to the following vowel
_AFTER = set("ːˑ")  # length marks extend the previous sound
CONSONANT_WEIGHT = 0.35  # consonants keep the mouth half-way to the neighbouring vowel

# Hangul medial vowels (jamo U+1161..U+1175) to mouth shapes.
_JAMO_VOWELS = {
    "ᅡ": "aa", "ᅣ": "aa", "ᅪ": "aa", "ᅥ": "oh", "ᅧ": "oh", "ᅯ": "oh", "ᅩ": "oh", "ᅭ": "oh",
    "ᅬ": "ee", "ᅢ": "ee", "ᅤ": "ee", "ᅦ": "ee", "ᅨ": "ee", "ᅫ": "ee", "ᅰ": "ee",
    "ᅮ": "ou", "ᅲ": "ou", "ᅳ": "ou", "ᅵ": "ih", "ᅴ": "ih", "ᅱ": "ih",
}
_LETTER_VOWELS = {"a": "aa", "e": "ee", "i": "ih", "y": "ih", "o": "oh", "u": "ou"}
# Japanese kana vowels by their romanized final vowel would need a table; they fall back to "aa".


def merge(events: Iterable[VisemeEvent]) -> tuple[VisemeEvent, ...]:
    """Join neighbours with the same shape and weight; drop empty spans."""
    out: list[VisemeEvent] = []
    for event in events:
        if event.end_ms <= event.start_ms:
            continue
        if out and out[-1].viseme == event.viseme and abs(out[-1].weight - event.weight) < 1e-6 and out[-1].end_ms == event.start_ms:
            out[-1] = VisemeEvent(out[-1].start_ms, event.end_ms, event.viseme, event.weight)
        else:
            out.append(event)
    return tuple(out)


def from_alignments(alignments: Sequence[tuple[str, int]], sample_rate: int) -> tuple[VisemeEvent, ...]:
    """Visemes from (phoneme, samples) pairs in order, as Piper reports them."""
    kinds: list[tuple[str, float] | None] = []
    for phoneme, _count in alignments:
        ch = phoneme[:1]
        if ch in _IPA_VOWELS:
            kinds.append((_IPA_VOWELS[ch], 1.0))
        elif ch in _PAUSES or ch in _CLOSED or not ch:
            kinds.append(("silence", 0.0))
        elif ch in _BEFORE or ch in _AFTER:
            kinds.append(None)  # resolved below from its neighbour
        else:
            kinds.append(("consonant", CONSONANT_WEIGHT))
    resolved: list[tuple[str, float]] = []
    for index, kind in enumerate(kinds):
        ch = alignments[index][0][:1]
        if kind is None:
            neighbour = _next_vowel(kinds, index) if ch in _BEFORE else (resolved[-1] if resolved else None)
            kind = neighbour or ("silence", 0.0)
        if kind[0] == "consonant":
            vowel = _next_vowel(kinds, index) or _previous_vowel(resolved)
            kind = (vowel[0], CONSONANT_WEIGHT) if vowel else ("silence", 0.0)
        resolved.append(kind)
    events, cursor = [], 0
    for (viseme, weight), (_phoneme, count) in zip(resolved, alignments, strict=True):
        start = cursor
        cursor += int(count)
        events.append(VisemeEvent(_ms(start, sample_rate), _ms(cursor, sample_rate), viseme, weight))
    return merge(events)


def _next_vowel(kinds: list[tuple[str, float] | None], index: int) -> tuple[str, float] | None:
    for kind in kinds[index + 1:]:
        if kind is None or kind[0] == "consonant":
            continue
        return kind if kind[0] != "silence" else None
    return None


def _previous_vowel(resolved: list[tuple[str, float]]) -> tuple[str, float] | None:
    for kind in reversed(resolved):
        if kind[0] == "silence":
            return None
        return kind
    return None


def text_vowels(text: str) -> list[str]:
    """The vowel shapes of a text in reading order: Hangul via jamo, Latin letters by spelling."""
    from jamo import h2j

    shapes: list[str] = []
    for ch in h2j(text):
        if ch in _JAMO_VOWELS:
            shapes.append(_JAMO_VOWELS[ch])
        elif ch.lower() in _LETTER_VOWELS:
            shapes.append(_LETTER_VOWELS[ch.lower()])
    return shapes


FRAME_MS = 40
# Frames quieter than this (relative to the loudest frame, and absolutely) count as silence.
RELATIVE_FLOOR = 0.12
ABSOLUTE_FLOOR = 0.01


def from_envelope(pcm: bytes, sample_rate: int, *, text: str = "", vowel_offset: int = 0) -> tuple[VisemeEvent, ...]:
    """Visemes from loudness: one event per 40 ms frame, shaped by the text's vowels in order.

    `vowel_offset` lets a streaming engine continue the text's vowels across chunks.
    """
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    frame = max(1, sample_rate * FRAME_MS // 1000)
    count = samples.size // frame + (1 if samples.size % frame else 0)
    if count == 0:
        return ()
    padded = np.zeros(count * frame, dtype=np.float32)
    padded[: samples.size] = samples
    rms = np.sqrt(np.mean(padded.reshape(count, frame) ** 2, axis=1))
    loudest = float(rms.max()) or 1.0
    vowels = text_vowels(text) if text else []
    voiced = rms > max(ABSOLUTE_FLOOR, RELATIVE_FLOOR * loudest)
    # Advance to the next vowel at the start of each voiced run and every ~3 voiced frames (a syllable).
    events, vowel_index, run = [], vowel_offset, 0
    for i in range(count):
        start, end = _ms(i * frame, sample_rate), _ms(min((i + 1) * frame, samples.size), sample_rate)
        if not voiced[i]:
            events.append(VisemeEvent(start, end, "silence", 0.0))
            run = 0
            continue
        if run and run % 3 == 0:
            vowel_index += 1
        run += 1
        shape = vowels[vowel_index % len(vowels)] if vowels else "aa"
        weight = float(min(1.0, 0.3 + 0.7 * rms[i] / loudest))
        events.append(VisemeEvent(start, end, shape, round(weight, 2)))
        if run == 1 and i + 1 < count and not voiced[i + 1]:
            vowel_index += 1
    return merge(events)


def _ms(samples: int, sample_rate: int) -> int:
    return round(samples * 1000 / sample_rate)
