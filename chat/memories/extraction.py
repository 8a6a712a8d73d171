"""Facts about the user from a conversation's new messages, by the language model (JSON schema).

The model sees the transcript of the messages not read yet and the facts already known (so it does
not repeat them) and answers {"facts": ["...", ...]}: short third-person facts about the user
(name, likes, plans, what happened), in the language of the conversation. Answers are cleaned
here: blank, too long, or echoing the instruction are dropped.
"""
from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _

from inference import llm
from inference.gpu.hold import hold_mode_sync

from ..models import MAX_MEMORY_TEXT

MAX_FACTS_PER_RUN = 8
MIN_FACT_CHARS = 3
SYSTEM_PREFIX = "You keep long-term notes about a user of a role-play chat."
FACTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "facts": {
            "type": "array",
            "maxItems": MAX_FACTS_PER_RUN,
            "items": {"type": "string", "maxLength": MAX_MEMORY_TEXT},
        },
    },
    "required": ["facts"],
}
_HINT_ECHOES = ("short fact", "facts about", "json", "no new facts")


def extraction_messages(*, user_name: str, character_name: str, transcript: str, known: list[str]) -> list[dict[str, str]]:
    known_block = "\n".join(f"- {fact}" for fact in known) or "(none yet)"
    system = (
        f"{SYSTEM_PREFIX} From the conversation between {user_name} (the user) and {character_name}, "
        f"list new facts worth remembering about {user_name} in later conversations: their name, what they "
        "like or dislike, people and pets in their life, plans, promises, and what happened. "
        f"Each fact is one short sentence in the third person about {user_name}, at most 20 words, in the "
        "language the user writes in. Skip small talk, the character's own words and facts already known. "
        f"At most {MAX_FACTS_PER_RUN} facts; an empty list when there is nothing new.\n\n"
        f"Facts already known:\n{known_block}"
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": transcript}]


def clean_facts(raw: object) -> list[str]:
    """The usable facts of an answer, in order, without blanks, duplicates or echoed hints."""
    facts: list[str] = []
    seen: set[str] = set()
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, str):
            continue
        text = " ".join(item.split()).strip(" -•*")
        key = text.casefold()
        if len(text) < MIN_FACT_CHARS or len(text) > MAX_MEMORY_TEXT or key in seen:
            continue
        if any(echo in key for echo in _HINT_ECHOES):
            continue
        seen.add(key)
        facts.append(text)
    return facts[:MAX_FACTS_PER_RUN]


def extract_facts(*, model: str | None, user_name: str, character_name: str, transcript: str, known: list[str]) -> list[str]:
    """Ask the model; raises LLMError (transient ones are retried by the task)."""
    cfg = llm.get_model(model)
    max_tokens = min(cfg.max_tokens, 400)
    messages = extraction_messages(user_name=user_name, character_name=character_name, transcript=transcript, known=known)
    with hold_mode_sync(cfg.gpu_mode):  # a model on a switching GPU host
        text = llm.complete(model=model, messages=messages, max_tokens=max_tokens, temperature=0.1, json_schema=FACTS_SCHEMA)
    try:
        value = json.loads(text)
    except ValueError:
        raise llm.LLMError(_("The language model did not answer with JSON. Try again."), code="llm_bad_response",
                           transient=False) from None
    return clean_facts(value.get("facts"))


def transcript_budget(model: str | None) -> int:
    """Tokens of transcript one extraction may read: the model's context less the instruction,
    the known facts and the answer."""
    cfg = llm.get_model(model)
    return max(256, int(cfg.context_length * 0.9) - 400 - 600)

