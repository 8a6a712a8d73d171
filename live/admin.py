from django.contrib import admin

from .models import ChzzkAccount, LiveSession, ViewerMemory


@admin.register(LiveSession)
class LiveSessionAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "character", "platform", "status", "ai_paused", "started_at"]
    list_filter = ["platform", "status", "ai_paused"]
    search_fields = ["title", "owner__email", "character__name"]
    raw_id_fields = ["owner", "character", "conversation"]
    readonly_fields = ["overlay_key", "created_at", "updated_at", "started_at", "stopped_at"]


@admin.register(ChzzkAccount)
class ChzzkAccountAdmin(admin.ModelAdmin):
    list_display = ["user", "channel_name", "channel_id", "expires_at", "updated_at"]
    search_fields = ["user__email", "channel_name", "channel_id"]
    exclude = ["access_token", "refresh_token"]  # encrypted secrets never appear in admin
    readonly_fields = ["user", "channel_id", "expires_at", "linked_at", "updated_at"]


@admin.register(ViewerMemory)
class ViewerMemoryAdmin(admin.ModelAdmin):
    list_display = ["nickname", "owner", "platform", "viewer_id", "message_count", "last_seen"]
    list_filter = ["platform"]
    search_fields = ["nickname", "viewer_id", "owner__email"]
    raw_id_fields = ["owner"]
