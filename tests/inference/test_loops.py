"""The loop detector on streamed replies (inference.llm.loops)."""
from __future__ import annotations

from inference.llm.loops import LoopDetector

LOOP = "That is a riddle to answer, and I will give you the answer. "


def stream(detector: LoopDetector, text: str, piece: int = 3) -> bool:
    looping = False
    for i in range(0, len(text), piece):
        looping = detector.feed(text[i:i + piece]) or looping
    return looping


def test_a_repeated_sentence_is_cut_after_its_first_round():
    detector = LoopDetector()
    assert stream(detector, "Hmm, let me think. " + LOOP * 6)
    assert detector.kept_text() == "Hmm, let me think. That is a riddle to answer, and I will give you the answer."
    assert len(detector.text) < len("Hmm, let me think. " + LOOP * 3) + 10  # caught during the third round


def test_korean_loops_are_caught_too():
    detector = LoopDetector()
    assert stream(detector, "좋아요! " + "저는 수수께끼를 좋아하고 답을 알려 줄게요 " * 5)
    assert detector.kept_text() == "좋아요! 저는 수수께끼를 좋아하고 답을 알려 줄게요"


def test_ordinary_prose_and_a_refrain_said_twice_are_not_loops():
    detector = LoopDetector()
    prose = (
        "I grew up by the sea, where the boats came in at dawn and the gulls fought over the nets. "
        "My mother sold fish at the market, and I carried the baskets home before school. "
        "Later I moved to the city to study music, but I still dream about the sound of the waves. "
        "Row, row, row your boat gently down the stream; row, row, row your boat gently down the stream. "
        "That song was the first one I learned to play on the piano, and I still play it for my niece."
    )
    assert not stream(detector, prose)
    assert detector.kept_text() == prose


def test_after_a_loop_it_stays_cut():
    detector = LoopDetector()
    stream(detector, LOOP * 4)
    kept = detector.kept_text()
    assert detector.feed("More text that would never be shown.")
    assert detector.kept_text() == kept
