"""Mounted at /api/system/ (names in namespace `api`)."""
from django.urls import path

from . import api

urlpatterns = [
    path("mode", api.SystemModeApi.as_view(), name="system-mode"),
    path("vram", api.SystemVramApi.as_view(), name="system-vram"),
]
