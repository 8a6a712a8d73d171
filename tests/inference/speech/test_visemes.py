import numpy as np

from inference.speech import visemes
from inference.speech.types import VISEMES


def _ordered(events):
    return all(a.end_ms == b.start_ms for a, b in zip(events, events[1:], strict=False)) and all(e.end_ms > e.start_ms for e in events)


def test_alignments_map_vowels_to_shapes_and_pauses_to_silence():
    rate = 1000  # 1 sample = 1 ms
    alignments = [("^", 50), ("h", 40), ("ə", 60), ("l", 30), ("ˈ", 10), ("o", 80), ("ʊ", 40), (" ", 100), ("m", 30), ("i", 90), (".", 50), ("$", 20)]
    events = visemes.from_alignments(alignments, rate)
    assert _ordered(events)
    assert events[0].viseme == "silence" and events[-1].viseme == "silence"
    shape_at = {t: next(e for e in events if e.start_ms <= t < e.end_ms) for t in (120, 200, 290, 350, 420, 480)}
    assert shape_at[120].viseme == "aa" and shape_at[120].weight == 1.0  # ə
    assert shape_at[200].viseme == "oh"  # o
    assert shape_at[290].viseme == "ou"  # ʊ
    assert shape_at[350].viseme == "silence"  # the space between words
    assert shape_at[420].viseme == "silence"  # m: lips closed
    assert shape_at[480].viseme == "ih"  # i
    # The consonant h takes the next vowel's shape, half open.
    h = next(e for e in events if e.start_ms <= 60 < e.end_ms)
    assert h.viseme == "aa" and h.weight < 0.5
    assert events[-1].end_ms == sum(n for _p, n in alignments)


def test_korean_vowels_from_jamo():
    assert visemes.text_vowels("아이우에오") == ["aa", "ih", "ou", "ee", "oh"]
    assert visemes.text_vowels("안녕") == ["aa", "oh"]


def test_envelope_opens_the_mouth_only_where_the_audio_is_loud():
    rate = 16000
    t = np.arange(rate) / rate
    tone = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    samples = np.concatenate([np.zeros(rate // 2, np.float32), tone, np.zeros(rate // 2, np.float32)])
    pcm = (samples * 32767).astype("<i2").tobytes()
    events = visemes.from_envelope(pcm, rate, text="아이")
    assert _ordered(events) and events[-1].end_ms == 2000
    assert {e.viseme for e in events} <= set(VISEMES)
    for event in events:
        middle = (event.start_ms + event.end_ms) / 2
        if middle < 480 or middle > 1520:
            assert event.viseme == "silence", event
        elif 520 < middle < 1480:
            assert event.viseme in {"aa", "ih"} and event.weight > 0.5, event
    spoken = [e.viseme for e in events if e.viseme != "silence"]
    assert spoken[0] == "aa" and "ih" in spoken  # the text's vowels, in order


def test_the_browser_reads_hangul_vowels_with_the_same_table():
    """frontend/src/chat/text_visemes.js moves the mouth from streamed text; it must shape each
    Hangul vowel as the voice pipeline does."""
    import json
    import re
    from pathlib import Path

    from django.conf import settings

    from inference.speech.visemes import _JAMO_VOWELS

    source = (Path(settings.BASE_DIR) / "frontend/src/chat/text_visemes.js").read_text()
    table = json.loads(re.search(r"HANGUL_MEDIAL_SHAPES = (\[[^\]]*\])", source).group(1).replace(",\n]", "]").replace("\n", ""))
    medials = [chr(0x1161 + i) for i in range(21)]  # ᅡ..ᅵ in Unicode order
    assert table == [_JAMO_VOWELS[m] for m in medials]
