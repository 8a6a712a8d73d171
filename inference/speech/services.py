"""TTS writes: synthesize (through the per-owner cache), stream, and the daily plan allowance."""
from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import AsyncIterator

from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from avatarforge.errors import AppError, LimitExceeded, NotFound

from . import config, selectors
from .audio import streaming_wav_header, wav_bytes
from .clauses import normalize
from .tts import TextToSpeech
from .types import Voice


def cache_key(*, text: str, voice: Voice, speed: float, language: str, engine: TextToSpeech) -> str:
    """Every input that changes the audio, and the engine (a new model is a new clip)."""
    material = json.dumps([text, voice.id, voice.engine_voice, voice.options, round(speed, 3), language, engine.identity], sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()


def _check_text(text: str) -> str:
    text = normalize(text)
    if not text:
        raise AppError(_("Give some text to speak."), code="text_required", details={"text": ["required"]})
    limit = settings.TTS_MAX_CHARS
    if len(text) > limit:
        raise AppError(
            _("The text is %(n)d characters; one request may have at most %(limit)d.") % {"n": len(text), "limit": limit},
            code="text_too_long", details={"length": len(text), "max_length": limit},
        )
    return text


def _usage_key(user) -> str:
    return f"tts:chars:{user.pk}:{timezone.now().date().isoformat()}"


def daily_allowance(user) -> int:
    plan = getattr(user, "plan", None)
    allowances = settings.TTS_DAILY_CHARS
    return int(allowances.get(getattr(plan, "code", ""), allowances.get("free", 0)))


def _charge(user, characters: int) -> None:
    """Count characters against today's allowance, refusing when it would be exceeded.

    Counted in the cache (Redis in production) so the cached and the streamed paths share it;
    incr is atomic, and an over-the-limit increment is taken back.
    """
    allowance = daily_allowance(user)
    key = _usage_key(user)
    cache.add(key, 0, timeout=int(datetime.timedelta(days=1, hours=1).total_seconds()))
    used = cache.incr(key, characters)
    if used > allowance:
        cache.decr(key, characters)
        raise LimitExceeded(
            _("Your plan allows %(limit)d characters of speech a day; %(left)d are left today.") % {
                "limit": allowance, "left": max(0, allowance - (used - characters))},
            code="tts_daily_limit_exceeded",
            details={"limit": allowance, "used": used - characters, "requested": characters},
        )


def _refund(user, characters: int) -> None:
    try:
        cache.decr(_usage_key(user), characters)
    except ValueError:
        pass


def _prepare(*, user, text: str, voice_id: str, language: str) -> tuple[str, Voice, TextToSpeech]:
    if not user.is_authenticated:
        raise NotFound()
    text = _check_text(text)
    voice = selectors.resolve_voice(voice_id=voice_id, language=language)
    return text, voice, config.tts_engine(voice.engine)


def synthesize_clip(*, user, text: str, voice_id: str = "default", speed: float = 1.0, language: str = "ko"):
    """A stored clip for this request: the cached one when the same request was made before."""
    from inference.models import TtsClip

    text, voice, engine = _prepare(user=user, text=text, voice_id=voice_id, language=language)
    key = cache_key(text=text, voice=voice, speed=speed, language=language, engine=engine)
    existing = TtsClip.objects.filter(owner=user, cache_key=key).first()
    if existing is not None:
        existing.was_cached = True
        return existing
    _charge(user, len(text))
    try:
        # Synthesis takes seconds: outside any transaction.
        result = async_to_sync(engine.synthesize)(text, voice=voice, speed=speed)
    except BaseException:
        _refund(user, len(text))
        raise
    clip = TtsClip(
        owner=user, cache_key=key, text=text, voice_id=voice.id, language=language, speed=speed, engine=engine.identity,
        duration=round(result.duration, 3), sample_rate=result.sample_rate, visemes=[e.as_dict() for e in result.visemes],
    )
    try:
        with transaction.atomic():
            clip.audio.save(f"{clip.id.hex}.wav", ContentFile(wav_bytes(result.pcm, result.sample_rate)), save=False)
            clip.save(force_insert=True)
    except IntegrityError:
        # The same request finished in parallel: keep theirs, drop our copy.
        clip.audio.delete(save=False)
        _refund(user, len(text))
        winner = TtsClip.objects.get(owner=user, cache_key=key)
        winner.was_cached = True
        return winner
    return clip


def delete_clip(*, user, file_id) -> None:
    clip = selectors.clip_for(user=user, file_id=file_id)
    with transaction.atomic():
        clip.delete()
        transaction.on_commit(lambda: clip.audio.delete(save=False))


def open_stream(*, user, text: str, voice_id: str = "default", speed: float = 1.0, language: str = "ko") -> tuple[Voice, AsyncIterator[bytes]]:
    """Validate, charge and check the engine now (so errors are proper responses); then a WAV byte stream.

    Nothing is stored: the stream is for playing at once (the cached endpoint is for keeping).
    """
    text, voice, engine = _prepare(user=user, text=text, voice_id=voice_id, language=language)
    async_to_sync(engine.health)()
    _charge(user, len(text))
    return voice, _wav_stream(engine, text, voice, speed)


async def _wav_stream(engine: TextToSpeech, text: str, voice: Voice, speed: float) -> AsyncIterator[bytes]:
    sent_header = False
    stream = engine.stream(text, voice=voice, speed=speed)
    try:
        async for chunk in stream:
            if not sent_header:
                yield streaming_wav_header(chunk.sample_rate)
                sent_header = True
            yield chunk.pcm
    finally:
        await stream.aclose()
