"""Forms of the character pages. Limits come from the model; services do the saving."""
from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ..avatars.policy import visible_q
from ..models import Avatar, Character
from ..models.personas import CharacterCategory, CharacterLimits, CharacterVisibility
from ..models.reports import MAX_REPORT_DETAILS, ReportReason

GREETING_SEPARATOR = "---"

# (section title, fields) in the order the form shows them.
FORM_GROUPS: list[tuple[Any, list[str]]] = [
    (_("Identity"), ["name", "nickname", "category", "source_work", "language", "gender", "species", "age", "height", "job"]),
    (_("Character sheet"), ["description", "personality", "appearance", "likes", "dislikes", "speech_style", "thoughts",
                            "features", "habits", "guidelines", "worldview"]),
    (_("Conversation"), ["first_message", "alternate_greetings", "example_dialogue"]),
    (_("Default scenario"), ["scenario_counterpart", "scenario_situation", "scenario_background"]),
    (_("Presentation and sharing"), ["avatar", "builtin_avatar", "voice_id", "voice_speed", "visibility"]),
    (_("Character Card fields"), ["tags", "creator", "character_version", "creator_notes", "system_prompt",
                                  "post_history_instructions"]),
]
FORM_FIELDS: list[str] = [name for _title, names in FORM_GROUPS for name in names]

_SHORT_TEXTAREAS = {"likes", "dislikes", "habits", "scenario_situation", "post_history_instructions"}


class TagsField(forms.CharField):
    """Comma-separated tags <-> list."""

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value) or ""
        return [t.strip() for t in text.split(",") if t.strip()]


class GreetingsField(forms.CharField):
    """Alternate greetings in one textarea, separated by lines holding only `---`."""

    def prepare_value(self, value: Any) -> Any:
        return f"\n{GREETING_SEPARATOR}\n".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:
        text = (super().to_python(value) or "").replace("\r\n", "\n")
        parts, current = [], []
        for line in text.split("\n"):
            if line.strip() == GREETING_SEPARATOR:
                parts.append("\n".join(current))
                current = []
            else:
                current.append(line)
        parts.append("\n".join(current))
        return [p.strip() for p in parts if p.strip()]


class CharacterForm(forms.ModelForm):
    tags = TagsField(label=_("Tags"), required=False, max_length=2000)
    alternate_greetings = GreetingsField(
        label=_("Alternate greetings"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Other first messages; put a line with only --- between them."),
    )

    class Meta:
        model = Character
        fields = FORM_FIELDS

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The library's own visibility rule: the avatars a character of this user may wear.
        self.fields["avatar"].queryset = Avatar.objects.filter(visible_q(user)).order_by("name")
        self.fields["avatar"].help_text = _("A VRM avatar from your library; otherwise the built-in 2D avatar is used.")
        # Formatted per request: "%" on a lazy string would freeze it in the start-up language.
        self.fields["tags"].help_text = _("Separated by commas, at most %(n)d.") % {"n": CharacterLimits.MAX_TAGS}
        self._setup_voice()
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.Textarea) and name != "alternate_greetings":
                widget.attrs["rows"] = 3 if name in _SHORT_TEXTAREAS else 5
            limit = getattr(field, "max_length", None)
            if limit:
                widget.attrs["maxlength"] = limit

    def _setup_voice(self) -> None:
        """The voice: one of the deployment's voices (GET /api/tts/voices), or the default voice of
        the character's language. A stored id this deployment lacks (an imported card from another
        server) stays selectable, so saving the form does not silently drop it."""
        from inference.speech import config as speech_config

        voices = speech_config.voices()
        choices: list[tuple[str, Any]] = [("", _("Default voice for the character's language"))]
        for voice in voices:
            label = f"{voice.name} · {voice.language}"
            choices.append((voice.id, label))
        current = (self.initial.get("voice_id") or getattr(self.instance, "voice_id", "") or "").strip()
        if current and current not in {v.id for v in voices}:
            choices.append((current, _("%(voice)s (not installed here)") % {"voice": current}))
        field = forms.ChoiceField(label=self.fields["voice_id"].label, choices=choices, required=False,
                                  help_text=_("Preview plays a sentence in this voice."))
        field.widget.attrs.update({"data-voice-select": ""})
        self.fields["voice_id"] = field
        self._voices = {v.id: v for v in voices}
        speed = self.fields["voice_speed"]
        speed.required = False  # empty: the voice's own pace (1.0)
        speed.widget.attrs.update({"min": "0.5", "max": "2.0", "step": "0.1", "data-voice-speed": ""})

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("voice_speed") is None and "voice_speed" not in self.errors:
            cleaned["voice_speed"] = 1.0
        voice = self._voices.get(cleaned.get("voice_id") or "")
        language = cleaned.get("language")
        if voice is not None and language and voice.language != language:
            self.add_error("voice_id", _("This voice speaks %(has)s; the character speaks %(wanted)s.") % {
                "has": voice.language, "wanted": language})
        return cleaned

    def groups(self) -> list[tuple[Any, list[forms.BoundField]]]:
        return [(title, [self[name] for name in names]) for title, names in FORM_GROUPS]

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in FORM_FIELDS if name in self.cleaned_data}


class WizardStartForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    category = forms.ChoiceField(label=_("Category"), choices=CharacterCategory.choices, initial=CharacterCategory.ORIGINAL)
    source_work = forms.CharField(
        label=_("Source work"), max_length=200, required=False,
        help_text=_("The book, film, game... the character comes from. Leave empty for an original character."),
    )
    language = forms.ChoiceField(label=_("Language of the character"), choices=[("en", _("English")), ("ko", _("Korean"))])
    # Chosen by the page so it can follow and cancel the generation (wizard_progress.py).
    progress_id = forms.UUIDField(required=False, widget=forms.HiddenInput)


class CardImportForm(forms.Form):
    file = forms.FileField(label=_("Character Card file"),
                           help_text=_("PNG (at most 5 MB) or JSON (at most 1 MB), Character Card V1, V2 or V3."))
    visibility = forms.ChoiceField(label=_("Visibility"), choices=CharacterVisibility.choices,
                                   initial=CharacterVisibility.PRIVATE)


class ReportForm(forms.Form):
    """Report someone else's character (the detail page). The service checks everything again."""

    reason = forms.ChoiceField(label=_("Reason"), choices=ReportReason.choices)
    details = forms.CharField(
        label=_("What is wrong (optional)"), required=False, max_length=MAX_REPORT_DETAILS,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MAX_REPORT_DETAILS}),
    )
