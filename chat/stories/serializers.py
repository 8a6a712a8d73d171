"""The shapes of a story request and of a story, shared by the REST API and the socket's frames."""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from avatarforge.errors import AppError

from . import services, writing


class StoryRequestSerializer(serializers.Serializer):
    prompt = serializers.CharField(max_length=writing.MAX_PROMPT_CHARS, trim_whitespace=True,
                                   help_text="What the story is about; its language is the story's (Hangul: Korean).")
    length = serializers.ChoiceField(choices=list(writing.LENGTHS), default="medium",
                                     help_text="short: ~250 words in 2 chapters; medium: ~500 in 3; long: ~1,000 in 5.")
    style = serializers.ChoiceField(choices=list(writing.STYLES), default="general", help_text="The story's genre.")
    model = serializers.CharField(max_length=100, allow_blank=True, required=False, default="",
                                  help_text="A name from GET /api/chat/models; empty: the default model.")


class ChapterSerializer(serializers.Serializer):
    title = serializers.CharField(allow_blank=True, help_text="Empty when the model wrote no chapter heading.")
    text = serializers.CharField()


class StorySerializer(serializers.Serializer):
    story = serializers.CharField(help_text="The whole story: each chapter's title (if any) above its text.")
    word_count = serializers.IntegerField(
        help_text="Whitespace-separated words with a letter or digit in the chapters' texts (Korean: eojeol).")
    chapters = ChapterSerializer(many=True)
    end = serializers.ChoiceField(
        choices=list(services.ENDS),
        help_text="complete; loop_cut: stopped before the model repeated itself; max_tokens: the model's length cap.")
    model = serializers.CharField()
    language = serializers.ChoiceField(choices=["en", "ko"])


def request_error(errors: dict[str, Any]) -> AppError:
    """A story request's validation failure in the error family, with a code per problem."""
    prompt_codes = {getattr(e, "code", "") for e in errors.get("prompt", [])}
    if "max_length" in prompt_codes:
        return AppError(_("The prompt may have at most %(n)d characters.") % {"n": writing.MAX_PROMPT_CHARS},
                        code="story_prompt_too_long", details={"max_length": writing.MAX_PROMPT_CHARS})
    if prompt_codes & {"blank", "required", "null"}:
        return AppError(_("Write what the story should be about."), code="story_prompt_empty", details={"prompt": ["blank"]})
    if "length" in errors:
        return AppError(_("The length must be short, medium or long."), code="story_bad_length",
                        details={"allowed": list(writing.LENGTHS)})
    if "style" in errors:
        return AppError(_("Unknown story style."), code="story_bad_style", details={"allowed": list(writing.STYLES)})
    return AppError(_("Some fields are invalid."), code="invalid", details={k: [str(e) for e in v] for k, v in errors.items()})


def validated(data: Any) -> dict[str, Any]:
    serializer = StoryRequestSerializer(data=data)
    if not serializer.is_valid():
        raise request_error(serializer.errors)
    return dict(serializer.validated_data)


def story_payload(story: services.Story) -> dict[str, Any]:
    return dict(StorySerializer({
        "story": story.story, "word_count": story.word_count, "end": story.end, "model": story.model,
        "language": story.language, "chapters": [{"title": c.title, "text": c.text} for c in story.chapters],
    }).data)
