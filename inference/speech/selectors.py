"""Reads for the TTS API: voices, a user's clips, today's usage."""
from __future__ import annotations

from django.utils.translation import gettext as _

from avatarforge.errors import AppError, NotFound

from . import config
from .types import Voice

LANGUAGE_NAMES = {"ko": "Korean", "en": "English", "ja": "Japanese"}


def voices() -> tuple[Voice, ...]:
    return config.voices()


def resolve_voice(*, voice_id: str, language: str) -> Voice:
    """The voice to speak `language` with; "default" picks the first voice for the language."""
    catalogue = config.voices()
    if voice_id == "default":
        for voice in catalogue:
            if voice.language == language:
                return voice
        raise AppError(
            _("No voice for %(language)s is installed. The embedded voices speak Korean and English; "
              "Japanese needs a GPU speech engine (SPEECH_TTS_ENGINE).") % {"language": LANGUAGE_NAMES.get(language, language)},
            code="language_unsupported",
            details={"language": language, "languages": sorted({v.language for v in catalogue})},
        )
    for voice in catalogue:
        if voice.id == voice_id:
            if voice.language != language:
                raise AppError(
                    _("The voice “%(voice)s” speaks %(has)s, not %(wanted)s.") % {
                        "voice": voice.name, "has": LANGUAGE_NAMES.get(voice.language, voice.language),
                        "wanted": LANGUAGE_NAMES.get(language, language)},
                    code="voice_language_mismatch",
                    details={"voice_id": voice.id, "voice_language": voice.language, "language": language},
                )
            return voice
    raise AppError(
        _("There is no voice “%(voice)s”. GET /api/tts/voices lists the voices.") % {"voice": voice_id[:100]},
        code="unknown_voice",
        details={"voice_id": voice_id[:100], "voices": [v.id for v in catalogue]},
    )


def clip_for(*, user, file_id) -> object:
    """A user's own clip; anyone else's is 'not found' (no hint that it exists)."""
    from inference.models import TtsClip

    clip = TtsClip.objects.filter(pk=file_id, owner=user).first() if user.is_authenticated else None
    if clip is None:
        raise NotFound(_("No such audio file."), code="tts_audio_not_found")
    return clip
