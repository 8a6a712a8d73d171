"""Memory within the context window: token budget, prompt building, hierarchical summaries.

The prompt is: one system message (persona formatted for role-play + scenario + the emotion
instruction + summaries of what came before + what the character remembers about the user from
earlier conversations (chat.memories) + the reply-language rule) followed by as many recent
messages as fit. The reply language is the one the person wrote their newest message in (Hangul
or Latin script, `reply_language`), else the character's configured language.
Budgets come from the model's context length with the seed's ratios (8K context: keep ~5K of
recent turns, summarize past 7K, never exceed 8K including the reply):

    recent_tokens  = 5/8 of the context  (what remains verbatim after summarizing)
    summarize_at   = 7/8 of the context  (unsummarized history that triggers a summary)
    hard_limit     = the context          (prompt + reserved reply, with a tokenizer margin)

Both thresholds are also capped by the room the prompt really has for history (a long persona
leaves less), so messages are summarized before they fall out of the window.

Summarizing runs in the background (chat.turns schedules the Celery task chat.tasks.summarize_conversation): a reply
never waits for it. When the history outgrows the window before the summary lands, the oldest
messages are left out of that prompt (sliding window); the budget always holds.

Summaries are hierarchical: level 0 summarizes a block of messages; when more than FOLD_FANIN
summaries of one level pile up, or all summaries together outgrow their share of the prompt,
the oldest ones are folded into one summary of the next level (the folded ones keep `parent`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from avatarforge.errors import AppError
from avatarforge.language import detect_language
from inference import llm
from inference.gpu.hold import hold_mode_sync
from inference.tokens import REPLY_PRIMING, count_tokens, encoding, message_tokens

from .emotions import EMOTION_INSTRUCTION
from .memories.retrieval import MemoryBlock, memory_block
from .models import Conversation, Message, Summary

logger = logging.getLogger(__name__)

TOKENIZER_MARGIN = 0.9  # our tokenizer is an estimate for non-OpenAI models: keep 10% spare
RECENT_RATIO = 5 / 8
SUMMARIZE_RATIO = 7 / 8
SUMMARY_SHARE = 1 / 8  # of the context, for all summaries together
PERSONA_SHARE = 1 / 4  # of the context, at most, for the persona system prompt
MEMORY_SHARE = 1 / 16  # of the context, at most, for memories from earlier conversations
FOLD_FANIN = 4  # this many summaries of one level fold into one of the next level
MAX_SUMMARY_STEPS = 6  # LLM calls one background run may make
SUMMARY_SYSTEM_PREFIX = "You keep the memory of a role-play conversation."
CONVERSATION_START = "(The conversation begins.)"
LOCK_TTL = 600
MESSAGE_COST = 4  # tokens a stored message costs the history beyond its text (role, separators)


@dataclass(frozen=True)
class Budget:
    context_length: int
    reply_tokens: int
    recent_tokens: int
    summarize_at: int
    hard_limit: int
    summary_tokens: int
    persona_tokens: int

    @property
    def prompt_limit(self) -> int:
        """Most tokens (by our count) a prompt may have: hard limit minus reply, with margin."""
        return int(self.hard_limit * TOKENIZER_MARGIN) - self.reply_tokens


def budget_for(cfg: llm.ModelConfig) -> Budget:
    ctx = cfg.context_length
    return Budget(
        context_length=ctx,
        reply_tokens=cfg.reply_tokens,
        recent_tokens=int(ctx * RECENT_RATIO),
        summarize_at=int(ctx * SUMMARIZE_RATIO),
        hard_limit=ctx,
        summary_tokens=int(ctx * SUMMARY_SHARE),
        persona_tokens=int(ctx * PERSONA_SHARE),
    )


def truncate_tokens(text: str, limit: int) -> str:
    if limit <= 0:
        return ""
    tokens = encoding().encode(text, disallowed_special=())
    if len(tokens) <= limit:
        return text
    return encoding().decode(tokens[:limit]).rstrip() + " …"


@dataclass
class PromptPlan:
    messages: list[dict[str, str]]
    prompt_tokens: int
    budget: Budget
    summary_ids: list[int] = field(default_factory=list)
    first_seq: int | None = None  # oldest message included verbatim
    covered_until: int = 0  # last message seq covered by summaries
    live_tokens: int = 0  # tokens of unsummarized messages (included or not)
    dropped: int = 0  # unsummarized messages left out for lack of room
    history_room: int = 0  # tokens the prompt had for messages
    language: str = "en"  # the language the reply is asked to be in
    memory_ids: list[int] = field(default_factory=list)  # chat.memories facts in the system prompt

    @property
    def summarize_threshold(self) -> int:
        return min(self.budget.summarize_at, self.history_room)

    @property
    def recent_target(self) -> int:
        return min(self.budget.recent_tokens, int(self.history_room * 0.7))

    def needs_summary(self, extra_tokens: int = 0) -> bool:
        """Whether the history passed its threshold; `extra_tokens`: messages stored after this
        plan was built (the turn's reply), so a turn decides without building its prompt twice."""
        return self.live_tokens + extra_tokens > self.summarize_threshold or self.dropped > 0


def _persona_prompt(conversation: Conversation, budget: Budget) -> str:
    from characters.personas.prompt import format_persona_prompt

    user_name = conversation.user_name or conversation.user.name
    persona = format_persona_prompt(conversation.character, user_name=user_name, scenario=conversation.scenario())
    return truncate_tokens(persona, budget.persona_tokens)


def _summary_block(summaries: list[Summary]) -> str:
    lines = [s.text.strip() for s in summaries if s.text.strip()]
    return "Summary of the earlier conversation (oldest first):\n" + "\n".join(f"- {line}" for line in lines)


def active_summaries(conversation_id: object) -> list[Summary]:
    return list(Summary.objects.filter(conversation_id=conversation_id, parent__isnull=True).order_by("start_seq"))


def _normalize_roles(history: list[dict[str, str]]) -> list[dict[str, str]]:
    """Alternate user/assistant starting with user: strict chat templates (Gemma) demand it."""
    merged: list[dict[str, str]] = []
    for item in history:
        if merged and merged[-1]["role"] == item["role"]:
            merged[-1] = {"role": item["role"], "content": merged[-1]["content"] + "\n\n" + item["content"]}
        else:
            merged.append(dict(item))
    if merged and merged[0]["role"] != "user":
        merged.insert(0, {"role": "user", "content": CONVERSATION_START})
    return merged


def reply_language(character_language: str, user_texts: list[str]) -> str:
    """The language to reply in: that of the newest user message written in Hangul or Latin
    script (one of only emoji or digits does not decide), else the character's language."""
    for text in reversed(user_texts):
        found = detect_language(text)
        if found is not None:
            return found
    return character_language or "en"


def build_prompt(conversation: Conversation, *, cfg: llm.ModelConfig, upto_seq: int | None = None,
                 context: str = "", memories: bool = True) -> PromptPlan:
    """The messages to send for a reply after message `upto_seq` (default: the last one).

    `context`: extra system text for this prompt only (live mode's recent chat and viewer
    memory); capped at the summaries' share so it can never crowd out the history.

    `memories`: whether the character's memories of this user from earlier conversations go in
    (chat.memories: the facts most relevant to the newest user message, within MEMORY_SHARE).

    Never waits for a summary: what does not fit is left out. Raises AppError when even the
    newest message alone cannot fit this model.
    """
    from characters.personas.prompt import reply_language_instruction

    budget = budget_for(cfg)
    system = _persona_prompt(conversation, budget) + "\n\n" + EMOTION_INSTRUCTION
    summaries = active_summaries(conversation.pk)
    covered_until = max((s.end_seq for s in summaries), default=0)
    # Keep the newest summaries that fit their share (folding normally keeps them all in).
    kept: list[Summary] = []
    used = 0
    for summary in reversed(summaries):
        cost = summary.token_count + 2
        if used + cost > budget.summary_tokens and kept:
            break
        kept.insert(0, summary)
        used += cost
    if kept:
        system += "\n\n" + _summary_block(kept)
    memory_ids: list[int] = []
    if memories:
        block = _memory_block(conversation, upto_seq, budget)
        if block is not None:
            system += "\n\n" + block.text
            memory_ids = block.memory_ids
    if context.strip():
        system += "\n\n" + truncate_tokens(context.strip(), budget.summary_tokens)

    live = Message.objects.filter(conversation=conversation, seq__gt=covered_until).exclude(text="")
    live = live.filter(status__in=(Message.Status.COMPLETE, Message.Status.CANCELLED))
    if upto_seq is not None:
        live = live.filter(seq__lte=upto_seq)
    rows = list(live.order_by("seq").values_list("seq", "role", "text", "token_count"))
    # Last in the system prompt, where a small model heeds it most.
    language = reply_language(conversation.character.language, [text for _s, role, text, _t in rows if role == Message.Role.USER])
    system += "\n\n" + reply_language_instruction(language)
    system_tokens = message_tokens(system)
    live_tokens = sum(tokens + MESSAGE_COST for _seq, _role, _text, tokens in rows)

    history_room = budget.prompt_limit - system_tokens - REPLY_PRIMING - message_tokens(CONVERSATION_START)
    chosen: list[tuple[int, str, str]] = []
    used = 0
    for seq, role, text, tokens in reversed(rows):
        cost = tokens + MESSAGE_COST
        if used + cost > history_room:
            break
        chosen.insert(0, (seq, role, text))
        used += cost
    if rows and not chosen:
        raise AppError(
            _("Your message is too long for this model. Shorten it or pick a model with a longer context."),
            code="message_too_long_for_model",
            details={"model": cfg.name, "context_length": cfg.context_length},
        )
    history = _normalize_roles([{"role": role, "content": text} for _seq, role, text in chosen])
    messages = [{"role": "system", "content": system}, *history]
    prompt_tokens = sum(message_tokens(m["content"]) for m in messages) + REPLY_PRIMING
    return PromptPlan(
        messages=messages,
        prompt_tokens=prompt_tokens,
        budget=budget,
        summary_ids=[s.pk for s in kept],
        first_seq=chosen[0][0] if chosen else None,
        covered_until=covered_until,
        live_tokens=live_tokens,
        dropped=len(rows) - len(chosen),
        history_room=history_room,
        language=language,
        memory_ids=memory_ids,
    )


def _memory_block(conversation: Conversation, upto_seq: int | None, budget: Budget) -> MemoryBlock | None:
    newest = Message.objects.filter(conversation=conversation, role=Message.Role.USER).exclude(text="")
    if upto_seq is not None:
        newest = newest.filter(seq__lte=upto_seq)
    query = newest.order_by("-seq").values_list("text", flat=True).first() or ""
    return memory_block(
        user_id=conversation.user_id, character_id=conversation.character_id,
        user_name=conversation.user_name or conversation.user.name, query=query,
        token_limit=int(budget.context_length * MEMORY_SHARE),
    )


# --- summarizing --------------------------------------------------------------------------------
def _lock_key(conversation_id: object) -> str:
    return f"chat:summary-lock:{conversation_id}"


def claim_summary_lock(conversation_id: object) -> bool:
    """Only one summary run per conversation at a time (chat.turns schedules, chat.tasks runs)."""
    return bool(cache.add(_lock_key(conversation_id), 1, timeout=LOCK_TTL))


def release_summary_lock(conversation_id: object) -> None:
    cache.delete(_lock_key(conversation_id))


def _summary_messages(conversation: Conversation, source: str, *, words: int) -> list[dict[str, str]]:
    char = conversation.character.name
    user = conversation.user_name or conversation.user.name
    language = "Korean" if getattr(conversation.character, "language", "en") == "ko" else "the language of the conversation"
    system = (
        f"{SUMMARY_SYSTEM_PREFIX} Write a concise memory note of what happened between {user} and {char}: "
        f"names, facts learned about {user}, promises, plans, relationship changes, emotional turning points "
        f"and open questions. Write in {language}, in the third person, at most {words} words. "
        "Output only the note."
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": source}]


def _transcript(conversation: Conversation, rows: list[Message], limit: int) -> str:
    char = conversation.character.name
    user = conversation.user_name or conversation.user.name
    lines = [f"{user if m.role == Message.Role.USER else char}: {m.text.strip()}" for m in rows]
    return truncate_tokens("\n".join(lines), limit)


def _call_summarizer(conversation: Conversation, source: str, budget: Budget, model: str | None) -> str:
    limit = max(48, budget.summary_tokens // 2)
    words = max(30, int(limit * 0.6))
    with hold_mode_sync(llm.get_model(model).gpu_mode):  # a model on a switching GPU host
        text = llm.complete(
            model=model, messages=_summary_messages(conversation, source, words=words), max_tokens=limit, temperature=0.2
        )
    text = text.strip()
    if not text:
        raise llm.LLMError(_("The language model returned an empty summary."), code="llm_bad_response", transient=False)
    return truncate_tokens(text, limit)


def _summarize_block(conversation: Conversation, plan: PromptPlan, model: str | None) -> Summary | None:
    rows = list(
        Message.objects.filter(conversation=conversation, seq__gt=plan.covered_until)
        .filter(status__in=(Message.Status.COMPLETE, Message.Status.CANCELLED))
        .exclude(text="")
        .order_by("seq")
    )
    if len(rows) <= 2:
        return None
    remaining = sum(m.token_count + MESSAGE_COST for m in rows)
    block: list[Message] = []
    # Oldest first until what stays fits the recent target; the last exchange always stays.
    for message in rows[:-2]:
        if remaining <= plan.recent_target and block:
            break
        block.append(message)
        remaining -= message.token_count + MESSAGE_COST
    if not block:
        return None
    source_limit = max(256, plan.budget.prompt_limit - 400)
    text = _call_summarizer(conversation, _transcript(conversation, block, source_limit), plan.budget, model)
    with transaction.atomic():
        # Another run may have covered these messages meanwhile (the lock makes it rare).
        covered = max((s.end_seq for s in Summary.objects.filter(conversation=conversation, parent__isnull=True)), default=0)
        if covered >= block[0].seq:
            return None
        return Summary.objects.create(
            conversation=conversation, level=0, start_seq=block[0].seq, end_seq=block[-1].seq,
            text=text, token_count=count_tokens(text), model_name=model or "",
        )


def _fold_candidates(summaries: list[Summary], budget: Budget) -> list[Summary] | None:
    by_level: dict[int, list[Summary]] = {}
    for summary in summaries:
        by_level.setdefault(summary.level, []).append(summary)
    for level in sorted(by_level):
        group = by_level[level]
        if len(group) > FOLD_FANIN:
            return group[:FOLD_FANIN]
    if len(summaries) >= 2 and sum(s.token_count + 2 for s in summaries) > budget.summary_tokens:
        return summaries[:2]
    return None


def _fold(conversation: Conversation, group: list[Summary], budget: Budget, model: str | None) -> Summary:
    source = "Earlier memory notes, oldest first:\n" + "\n".join(f"{i + 1}. {s.text.strip()}" for i, s in enumerate(group))
    text = _call_summarizer(conversation, source, budget, model)
    with transaction.atomic():
        ids = [s.pk for s in group]
        locked = list(Summary.objects.select_for_update().filter(pk__in=ids, parent__isnull=True))
        if len(locked) != len(ids):
            raise RuntimeError("summaries changed while folding")
        parent = Summary.objects.create(
            conversation=conversation, level=max(s.level for s in group) + 1,
            start_seq=min(s.start_seq for s in group), end_seq=max(s.end_seq for s in group),
            text=text, token_count=count_tokens(text), model_name=model or "",
        )
        Summary.objects.filter(pk__in=ids).update(parent=parent)
    return parent


def summarize(conversation_id: object) -> int:
    """Summarize what the conversation needs now; returns how many summaries were written.

    Called by the background task. LLM calls happen outside transactions; each write re-checks
    what it covers. A deleted conversation ends the run quietly.
    """
    written = 0
    try:
        for _step in range(MAX_SUMMARY_STEPS):
            conversation = Conversation.objects.select_related("character", "user").get(pk=conversation_id)
            try:
                cfg = llm.get_model(conversation.model_name or None)
            except AppError:
                cfg = llm.get_model(None)
            plan = build_prompt(conversation, cfg=cfg)
            budget = plan.budget
            group = _fold_candidates(active_summaries(conversation.pk), budget)
            if group is not None:
                _fold(conversation, group, budget, cfg.name)
                written += 1
                continue
            if not plan.needs_summary():
                break
            if _summarize_block(conversation, plan, cfg.name) is None:
                break
            written += 1
    except Conversation.DoesNotExist:
        return written
    except Exception as exc:
        from django.db import IntegrityError

        if isinstance(exc, IntegrityError) and not Conversation.objects.filter(pk=conversation_id).exists():
            return written  # deleted while we were summarizing
        raise
    return written
