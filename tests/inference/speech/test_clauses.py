from inference.speech.clauses import ClauseSplitter, split_text


def test_first_clause_may_end_at_a_comma_later_ones_at_sentences():
    assert split_text("Hello there, how are you today? I am fine, thanks. Bye") == [
        "Hello there,", "how are you today?", "I am fine, thanks.", "Bye",
    ]


def test_korean_punctuation_and_streamed_pieces():
    splitter = ClauseSplitter()
    out = []
    for piece in ["안녕", "하세요, 반갑", "습니다! 오늘은", " 날씨가 좋네요."]:
        out.extend(splitter.feed(piece))
    assert out == ["안녕하세요,", "반갑습니다!"]  # the last clause waits: more may follow its period
    out.extend(splitter.flush())
    assert out[-1] == "오늘은 날씨가 좋네요."


def test_numbers_and_repeated_punctuation_do_not_split():
    assert split_text("It costs 3.5 dollars, or 1,000 won!? Really.") == ["It costs 3.5 dollars,", "or 1,000 won!?", "Really."]


def test_a_tiny_prefix_does_not_make_a_clause():
    assert split_text("A, b c d. E") == ["A, b c d.", "E"]
