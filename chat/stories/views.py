"""The story page: a prompt, a length and a style; the story streams in over /ws/story/."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from . import writing


def _strings() -> dict[str, str]:
    return {
        "writing": _("Writing…"), "done": _("Done: %(words)s words in %(chapters)s chapters."),
        "stopped": _("Stopped."), "loopCut": _("Cut short: the story started repeating itself."),
        "maxTokens": _("The model reached its length limit; the story may end mid-sentence."),
        "connectionLost": _("Connection lost. Reconnecting…"), "notConnected": _("Not connected yet. Try again in a moment."),
        "untitled": _("Story"),
    }


@login_required
def story_page(request: HttpRequest) -> HttpResponse:
    lengths = [
        ("short", _("Short (about 250 words, 2 chapters)")),
        ("medium", _("Medium (about 500 words, 3 chapters)")),
        ("long", _("Long (about 1,000 words, 5 chapters)")),
    ]
    styles = [
        ("general", _("Any genre")), ("fantasy", _("Fantasy")), ("sci_fi", _("Science fiction")), ("mystery", _("Mystery")),
        ("romance", _("Romance")), ("horror", _("Horror")), ("comedy", _("Comedy")), ("adventure", _("Adventure")),
        ("fairy_tale", _("Fairy tale")), ("slice_of_life", _("Slice of life")),
    ]
    assert [code for code, _label in lengths] == list(writing.LENGTHS) and [c for c, _l in styles] == list(writing.STYLES)
    return render(request, "chat/story.html", {
        "lengths": lengths, "styles": styles, "max_prompt": writing.MAX_PROMPT_CHARS,
        "config": {"wsPath": "/ws/story/"}, "strings": _strings(),
    })
