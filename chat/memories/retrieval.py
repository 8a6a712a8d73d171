"""The memory block of a prompt: what the character remembers about the user, most relevant first.

Relevance to the user's newest message is the cosine similarity of sentence vectors
(inference.embeddings, multilingual) plus a lexical score (shared character bigrams, which works
for Korean without a morphological analyzer and catches names the vectors blur). When every fact
fits the block's budget no ranking is needed and the model is not asked at all: the facts go in,
newest first. Only the (user, character) pair of the conversation is ever read: one user's facts
cannot reach another user's prompt.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from inference import embeddings
from inference.tokens import count_tokens

from ..models import CharacterMemory

logger = logging.getLogger(__name__)

TOP_K = 8  # facts one prompt carries at most
LEXICAL_WEIGHT = 0.35
HEADER = "What you remember about {user} from earlier conversations (facts they told you; use them naturally, never list them):"


@dataclass(frozen=True)
class MemoryBlock:
    text: str
    memory_ids: list[int]


def _bigrams(text: str) -> set[str]:
    squeezed = "".join(ch for ch in text.casefold() if ch.isalnum())
    return {squeezed[i:i + 2] for i in range(len(squeezed) - 1)}


def lexical_score(query: str, fact: str) -> float:
    """Share of the fact's character bigrams that the query has (0..1)."""
    fact_grams = _bigrams(fact)
    if not fact_grams:
        return 0.0
    return len(fact_grams & _bigrams(query)) / len(fact_grams)


def vectors_for(memories: list[CharacterMemory]) -> np.ndarray:
    """The stored vectors, computing (not storing) any that are missing or from another model."""
    rows: list[np.ndarray | None] = [
        embeddings.from_bytes(m.embedding) if m.embedding_model == embeddings.MODEL_NAME else None for m in memories
    ]
    missing = [i for i, row in enumerate(rows) if row is None]
    if missing:
        fresh = embeddings.embed([memories[i].text for i in missing])
        for i, vector in zip(missing, fresh, strict=True):
            rows[i] = vector
    return np.vstack(rows) if rows else np.zeros((0, embeddings.DIMENSIONS), dtype=np.float32)


def rank(query: str, memories: list[CharacterMemory], *, wait_for_model: bool = True) -> list[tuple[float, CharacterMemory]]:
    """Memories with their relevance to `query`, best first (newer first among equals).

    `wait_for_model=False` (a chat turn): when the embedding model is not loaded in this process
    yet, start loading it and rank by the lexical score alone rather than stall the reply."""
    if not memories:
        return []
    semantic = np.zeros(len(memories), dtype=np.float32)
    if wait_for_model or embeddings.loaded():
        try:
            semantic = vectors_for(memories) @ embeddings.embed([query])[0]
        except Exception:  # the packaged model failed to load: the lexical score still ranks
            logger.exception("embedding failed; ranking memories by words only")
    else:
        embeddings.warm_in_background()
    scored = [(float(semantic[i]) + LEXICAL_WEIGHT * lexical_score(query, m.text), m) for i, m in enumerate(memories)]
    # The list came newest first; sort is stable, so ties keep that order.
    return sorted(scored, key=lambda pair: pair[0], reverse=True)


def memory_block(*, user_id: int, character_id: int, user_name: str, query: str, token_limit: int) -> MemoryBlock | None:
    """The block for the system prompt, or None when there is nothing (or no room) to remember."""
    from .selectors import memory_enabled

    if token_limit <= 0 or not memory_enabled(user_id=user_id, character_id=character_id):
        return None
    memories = list(CharacterMemory.objects.filter(user_id=user_id, character_id=character_id).order_by("-updated_at", "-id"))
    if not memories:
        return None
    header = HEADER.format(user=user_name)
    room = token_limit - count_tokens(header) - 2
    costs = {m.pk: count_tokens(m.text) + 3 for m in memories}
    if len(memories) <= TOP_K and sum(costs.values()) <= room:
        chosen = memories  # all fit: no ranking, no model call
    else:
        chosen = []
        for _score, memory in rank(query, memories, wait_for_model=False):
            if len(chosen) >= TOP_K:
                break
            if costs[memory.pk] <= room:
                chosen.append(memory)
                room -= costs[memory.pk]
    if not chosen:
        return None
    lines = "\n".join(f"- {m.text}" for m in chosen)
    return MemoryBlock(text=f"{header}\n{lines}", memory_ids=[m.pk for m in chosen])
