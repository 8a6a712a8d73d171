from django.urls import path

from . import api

urlpatterns = [
    path("tts", api.TtsApi.as_view(), name="tts"),
    path("tts/stream", api.TtsStreamApi.as_view(), name="tts-stream"),
    path("tts/voices", api.VoicesApi.as_view(), name="tts-voices"),
    path("tts/<uuid:file_id>.wav", api.TtsAudioApi.as_view(), name="tts-audio"),
]
