"""The role-play system prompt: {{char}}/{{user}} substitution in any case, scenario overrides,
sections in the character's language."""
from __future__ import annotations

from characters.models import Character
from characters.personas.prompt import format_persona_prompt, scenario_for, substitute_placeholders


def make(**fields) -> Character:
    return Character(name="Mira", language="en", **fields)


def test_placeholders_any_case_and_spacing():
    text = "{{char}} greets {{user}}. {{CHAR}} and {{User}}; {{ char }} / {{ USER }}."
    assert substitute_placeholders(text, char_name="Mira", user_name="Jun") == "Mira greets Jun. Mira and Jun; Mira / Jun."


def test_replacement_is_literal():
    assert substitute_placeholders("{{user}}", char_name="x", user_name=r"\1 \g<0>") == r"\1 \g<0>"


def test_prompt_contains_sheet_and_substitutes():
    c = make(personality="Curious about {{USER}}", description="{{Char}} is a botanist.", job="Botanist",
             speech_style="Soft", guidelines="Never break character as {{char}}.",
             example_dialogue="{{user}}: hi\n{{char}}: hello", system_prompt="Extra rule for {{user}}.",
             scenario_counterpart="A visitor", scenario_situation="In the greenhouse", first_message="Hi {{user}}")
    prompt = format_persona_prompt(c, user_name="Jun")
    assert prompt.startswith("You are Mira.")
    assert "Curious about Jun" in prompt and "Mira is a botanist." in prompt
    assert "- Occupation: Botanist" in prompt
    assert "Never break character as Mira." in prompt
    assert "Jun: hi\nMira: hello" in prompt
    assert "Extra rule for Jun." in prompt
    assert "- Jun is: A visitor" in prompt and "In the greenhouse" in prompt
    assert "{{" not in prompt
    assert "Hi Jun" not in prompt  # the first message is a message, not part of the system prompt


def test_scenario_override_and_empty_fields():
    c = make(scenario_counterpart="A visitor", scenario_situation="Greenhouse", scenario_background="Spring")
    prompt = format_persona_prompt(c, user_name="Jun", scenario={"opponent": "A rival", "situation": "Night market"})
    assert "A rival" in prompt and "Night market" in prompt and "Spring" in prompt
    assert "A visitor" not in prompt and "Greenhouse" not in prompt
    assert "## Likes" not in prompt  # empty fields are left out
    assert scenario_for(c, None) == {"counterpart": "A visitor", "situation": "Greenhouse", "background": "Spring"}


def test_korean_headings():
    c = Character(name="하늘", language="ko", personality="차분함")
    prompt = format_persona_prompt(c, user_name="")
    assert prompt.startswith("당신은 하늘입니다.")
    assert "## 성격\n차분함" in prompt and "사용자" in prompt


def test_reply_language_instruction_is_written_in_that_language():
    from characters.personas.prompt import reply_language_instruction

    assert "한국어" in reply_language_instruction("ko")
    assert "English" in reply_language_instruction("en")
    assert reply_language_instruction("fr") == reply_language_instruction("en")
