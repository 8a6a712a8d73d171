"""TTS API (seed 004 section 5.5): synthesize with a cache, stream, list voices, fetch audio."""
from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from avatarforge.errors import NotFound

from . import selectors, services
from .serializers import TtsRequestSerializer, TtsResultSerializer, VoiceListSerializer

_ERRORS = {
    400: OpenApiResponse(description="text_required / text_too_long / unknown_voice / language_unsupported / voice_language_mismatch / invalid"),
    403: OpenApiResponse(description="tts_daily_limit_exceeded"),
    429: OpenApiResponse(description="rate_limited"),
    502: OpenApiResponse(description="speech_engine_failed"),
    503: OpenApiResponse(description="speech_engine_unavailable"),
}


class _TtsThrottled(APIView):
    def get_throttles(self):
        if self.request.method == "POST":
            self.throttle_scope = "tts"
            return [UserRateThrottle(), ScopedRateThrottle()]
        return super().get_throttles()


class TtsApi(_TtsThrottled):
    @extend_schema(request=TtsRequestSerializer, responses={200: TtsResultSerializer, **_ERRORS}, summary="Text to speech (cached)")
    def post(self, request: Request) -> Response:
        data = TtsRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        clip = services.synthesize_clip(user=request.user, **data.validated_data)
        return Response(TtsResultSerializer(clip).data)


class TtsStreamApi(_TtsThrottled):
    @extend_schema(
        request=TtsRequestSerializer,
        responses={(200, "audio/wav"): OpenApiTypes.BINARY, **_ERRORS},
        summary="Text to speech, streamed as WAV while it is synthesized (nothing stored)",
    )
    def post(self, request: Request) -> StreamingHttpResponse:
        data = TtsRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        voice, chunks = services.open_stream(user=request.user, **data.validated_data)
        response = StreamingHttpResponse(chunks, content_type="audio/wav")
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        response["X-Voice-Id"] = voice.id
        return response


class VoicesApi(APIView):
    @extend_schema(responses=VoiceListSerializer, summary="Voices the TTS API offers")
    def get(self, request: Request) -> Response:
        return Response(VoiceListSerializer({"voices": selectors.voices()}).data)


class TtsAudioApi(APIView):
    @extend_schema(responses={(200, "audio/wav"): OpenApiTypes.BINARY, 404: OpenApiResponse(description="tts_audio_not_found")}, summary="A synthesized clip (its owner only)")
    def get(self, request: Request, file_id: Any):
        clip = selectors.clip_for(user=request.user, file_id=file_id)
        try:
            handle = default_storage.open(clip.audio.name, "rb")
        except (OSError, ValueError):
            raise NotFound(_("This audio file is no longer stored."), code="tts_audio_missing") from None
        response = FileResponse(handle, content_type="audio/wav", filename=f"{clip.id.hex}.wav")
        response["Cache-Control"] = "private, max-age=86400"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @extend_schema(responses={204: None, 404: OpenApiResponse(description="tts_audio_not_found")}, summary="Delete a clip")
    def delete(self, request: Request, file_id: Any) -> Response:
        services.delete_clip(user=request.user, file_id=file_id)
        return Response(status=204)
