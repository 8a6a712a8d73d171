from django.contrib import admin

from .models import TtsClip


@admin.register(TtsClip)
class TtsClipAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "voice_id", "language", "engine", "duration", "created_at")
    list_filter = ("language", "engine")
    search_fields = ("owner__email", "text", "voice_id")
    list_select_related = ("owner",)
    readonly_fields = ("id", "cache_key", "created_at", "visemes")
    raw_id_fields = ("owner",)
