"""The persona as a role-play system prompt (the seed's `format_persona_for_roleplay()`).

Use `format_persona_prompt(character, user_name=..., scenario=...)` for the system message of a
conversation, and `substitute_placeholders()` for any character text shown or sent on its own
(the first message, alternate greetings). Both replace `{{char}}` and `{{user}}` (any letter
case, spaces inside the braces allowed) with the character's and the user's names; the other
Character Card macros are left as they are.

The prompt is plain text in sections; headings follow the character's language so that a small
model keeps answering in it. Empty fields are left out. The prompt contains only the user's own
(or a public) character's text: callers must have authorized access to the character first.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models import Character

__all__ = ["format_persona_prompt", "substitute_placeholders", "scenario_for", "reply_language_instruction", "LABELS"]

_CHAR = re.compile(r"\{\{\s*char\s*\}\}", re.IGNORECASE)
_USER = re.compile(r"\{\{\s*user\s*\}\}", re.IGNORECASE)

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "intro": "You are {name}. Stay in character as {name} for the whole conversation and reply only as {name}.",
        "profile": "Profile",
        "name": "Name",
        "nickname": "Nickname",
        "source_work": "From",
        "gender": "Gender",
        "species": "Species",
        "age": "Age",
        "height": "Height",
        "job": "Occupation",
        "description": "Description",
        "personality": "Personality",
        "appearance": "Appearance",
        "likes": "Likes",
        "dislikes": "Dislikes",
        "speech_style": "Speech style",
        "thoughts": "Thoughts and values",
        "features": "Notable traits",
        "habits": "Habits",
        "worldview": "World",
        "guidelines": "Role-play guidelines",
        "scenario": "Scenario",
        "counterpart": "{user} is",
        "situation": "Situation",
        "background": "Background",
        "examples": "Example dialogue (style reference, not part of this conversation)",
        "system": "Additional instructions",
        "user_line": "You are talking with {user}.",
    },
    "ko": {
        "intro": "당신은 {name}입니다. 대화 내내 {name}의 캐릭터를 유지하고 {name}로서만 대답하세요.",
        "profile": "프로필",
        "name": "이름",
        "nickname": "별명",
        "source_work": "출처",
        "gender": "성별",
        "species": "종족",
        "age": "나이",
        "height": "키",
        "job": "직업",
        "description": "설명",
        "personality": "성격",
        "appearance": "외모",
        "likes": "좋아하는 것",
        "dislikes": "싫어하는 것",
        "speech_style": "말투",
        "thoughts": "생각과 가치관",
        "features": "특징",
        "habits": "버릇",
        "worldview": "세계관",
        "guidelines": "역할극 지침",
        "scenario": "상황 설정",
        "counterpart": "{user}의 역할",
        "situation": "상황",
        "background": "배경",
        "examples": "예시 대화 (말투 참고용, 이번 대화의 일부가 아님)",
        "system": "추가 지시",
        "user_line": "지금 대화하는 상대는 {user}입니다.",
    },
}

_PROFILE_FIELDS = ("nickname", "source_work", "gender", "species", "age", "height", "job")
_SHEET_FIELDS = (
    "description", "personality", "appearance", "likes", "dislikes", "speech_style",
    "thoughts", "features", "habits", "worldview",
)


# The rule that ends a chat system prompt: written in the language it asks for (a small model
# follows an instruction in the target language better), with the English name in parentheses.
_REPLY_LANGUAGE = {
    "en": "Always reply in English, whatever language the examples or the profile use.",
    "ko": "반드시 한국어로만 대답하세요. 영어로 대답하지 마세요. (Reply only in Korean.)",
}


def reply_language_instruction(language: str) -> str:
    """The explicit instruction to reply in `language` ("en" or "ko"; others: English)."""
    return _REPLY_LANGUAGE.get(language, _REPLY_LANGUAGE["en"])


def substitute_placeholders(text: str, *, char_name: str, user_name: str) -> str:
    """Replace {{char}} and {{user}} in any letter case. Replacement text is inserted literally
    (a name containing backslashes or `\\1` is not a regex template)."""
    text = _CHAR.sub(lambda _m: char_name, text)
    return _USER.sub(lambda _m: user_name, text)


def scenario_for(character: Character, scenario: Mapping[str, str] | None = None) -> dict[str, str]:
    """The scenario to play: the conversation's own values over the character's defaults.

    Keys: counterpart, situation, background (the seed calls the first one "opponent", which is
    accepted too)."""
    scenario = dict(scenario or {})
    if "opponent" in scenario and "counterpart" not in scenario:
        scenario["counterpart"] = scenario["opponent"]
    return {
        "counterpart": str(scenario.get("counterpart") or character.scenario_counterpart or ""),
        "situation": str(scenario.get("situation") or character.scenario_situation or ""),
        "background": str(scenario.get("background") or character.scenario_background or ""),
    }


def format_persona_prompt(character: Character, *, user_name: str, scenario: Mapping[str, str] | None = None) -> str:
    """The system prompt that makes the model play `character` opposite `user_name`.

    `scenario` (optional) overrides the character's default scenario per key: counterpart (who
    the user plays), situation, background. The character's own `system_prompt` (from a card)
    comes last as additional instructions; `post_history_instructions` is not included, because
    it belongs after the history (callers may append it as a final system message).
    """
    labels = LABELS.get(character.language, LABELS["en"])
    name = character.name
    user_name = user_name or ("사용자" if character.language == "ko" else "User")

    def sub(text: str) -> str:
        return substitute_placeholders(text.strip(), char_name=name, user_name=user_name)

    parts: list[str] = [labels["intro"].format(name=name), labels["user_line"].format(user=user_name)]

    profile = [f"- {labels['name']}: {name}"]
    profile += [f"- {labels[f]}: {sub(getattr(character, f))}" for f in _PROFILE_FIELDS if getattr(character, f).strip()]
    parts.append(f"## {labels['profile']}\n" + "\n".join(profile))

    for field in _SHEET_FIELDS:
        value = getattr(character, field).strip()
        if value:
            parts.append(f"## {labels[field]}\n{sub(value)}")

    play = scenario_for(character, scenario)
    scene = []
    if play["counterpart"].strip():
        scene.append(f"- {labels['counterpart'].format(user=user_name)}: {sub(play['counterpart'])}")
    if play["situation"].strip():
        scene.append(f"- {labels['situation']}: {sub(play['situation'])}")
    if play["background"].strip():
        scene.append(f"- {labels['background']}: {sub(play['background'])}")
    if scene:
        parts.append(f"## {labels['scenario']}\n" + "\n".join(scene))

    if character.guidelines.strip():
        parts.append(f"## {labels['guidelines']}\n{sub(character.guidelines)}")
    if character.example_dialogue.strip():
        parts.append(f"## {labels['examples']}\n{sub(character.example_dialogue)}")
    if character.system_prompt.strip():
        parts.append(f"## {labels['system']}\n{sub(character.system_prompt)}")
    return "\n\n".join(parts)
