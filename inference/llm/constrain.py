"""Constrained decoding of a reply's start: the reply is forced to begin with one of a few fixed
prefixes (the chat's emotion tags, "[happy] " ...), where the endpoint can enforce it.

A tiny model asked in the prompt for a tag starts with one rarely (0 of 9 replies measured); a
grammar makes every reply start with one by construction. How to ask depends on the server, so
it is a per-model capability (`ModelConfig.constrain`):

    llama_grammar       llama.cpp server: `grammar` (GBNF) in the request body
    vllm_regex          vLLM >= 0.10: `structured_outputs: {"regex": ...}`
    vllm_guided_regex   older vLLM: `guided_regex`
    none                nothing is sent; the caller parses what comes (chat.emotions)

An endpoint that refuses the field (400/422) is asked again without it and remembered, so the
reply falls back to parsing (stream.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .config import ModelConfig


@dataclass(frozen=True)
class ReplyPrefix:
    """The reply starts with exactly one of `options`; the text after it contains none of the
    characters in `forbid` (the chat forbids "[" so that no second tag follows the first)."""

    options: tuple[str, ...]
    forbid: str = ""

    def __post_init__(self) -> None:
        if not self.options or not all(self.options):
            raise ValueError("a ReplyPrefix needs at least one non-empty option")


def _gbnf_literal(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{escaped}"'


def _gbnf_char(ch: str) -> str:
    # Every forbidden character as a code-point escape: no character is special inside [^...].
    code = ord(ch)
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def gbnf(prefix: ReplyPrefix) -> str:
    """A llama.cpp grammar: one of the options, then free text (without the forbidden characters)."""
    options = " | ".join(_gbnf_literal(option) for option in prefix.options)
    rest = "[^" + "".join(_gbnf_char(ch) for ch in dict.fromkeys(prefix.forbid)) + "]*" if prefix.forbid else ".*"
    return f"root ::= ({options}) rest\nrest ::= {rest}\n"


_REGEX_SPECIAL = set("\\.^$|?*+()[]{}-")


def _regex_escape(text: str) -> str:
    # Not re.escape: it escapes spaces ("\ "), which not every regex-to-grammar compiler reads.
    return "".join("\\" + ch if ch in _REGEX_SPECIAL else ch for ch in text)


def regex(prefix: ReplyPrefix) -> str:
    """The same constraint as a regular expression (vLLM's guided decoding)."""
    options = "|".join(_regex_escape(option) for option in prefix.options)
    rest = "[^" + "".join(_regex_escape(ch) for ch in dict.fromkeys(prefix.forbid)) + "]*" if prefix.forbid else "[\\s\\S]*"
    return f"(?:{options}){rest}"


def body_fields(cfg: ModelConfig, prefix: ReplyPrefix | None) -> dict[str, Any]:
    """The request-body fields that enforce `prefix` on this model's endpoint ({} when it cannot)."""
    if prefix is None or cfg.constrain == "none":
        return {}
    if cfg.constrain == "llama_grammar":
        return {"grammar": gbnf(prefix)}
    if cfg.constrain == "vllm_regex":
        return {"structured_outputs": {"regex": regex(prefix)}}
    if cfg.constrain == "vllm_guided_regex":
        return {"guided_regex": regex(prefix)}
    raise ValueError(f"unknown constrain mode {cfg.constrain!r}")
