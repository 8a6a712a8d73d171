"""Admin of chat: conversations (with their messages), summaries, memories across conversations,
and the emotion -> avatar table."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import CharacterMemory, Conversation, EmotionPose, MemorySetting, Message, Summary


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ("seq", "role", "status", "emotion", "text", "token_count", "model_name", "ttft_ms", "duration_ms")
    readonly_fields = fields
    can_delete = False
    show_change_link = True
    ordering = ("seq",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "character", "model_name", "message_count", "last_emotion", "updated_at")
    list_filter = ("last_emotion", "model_name", "created_at")
    search_fields = ("title", "user__email", "character__name")
    raw_id_fields = ("user", "character")
    readonly_fields = ("id", "created_at", "updated_at", "last_message_at", "message_count")
    list_select_related = ("user", "character")
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("conversation", "seq", "role", "status", "emotion", "token_count", "model_name", "ttft_ms", "created_at")
    list_filter = ("role", "status", "emotion", "model_name")
    search_fields = ("text", "conversation__title", "conversation__user__email")
    raw_id_fields = ("conversation",)
    readonly_fields = ("created_at", "updated_at", "completed_at")


@admin.register(Summary)
class SummaryAdmin(admin.ModelAdmin):
    list_display = ("conversation", "level", "start_seq", "end_seq", "token_count", "is_active", "created_at")
    list_filter = ("level", "created_at")
    search_fields = ("text", "conversation__title", "conversation__user__email")
    raw_id_fields = ("conversation", "parent")

    @admin.display(boolean=True, description=_("used"))
    def is_active(self, obj: Summary) -> bool:
        return obj.parent_id is None


@admin.register(EmotionPose)
class EmotionPoseAdmin(admin.ModelAdmin):
    list_display = ("emotion", "expressions", "head_pitch", "head_yaw", "head_roll", "transition", "updated_at")
    list_filter = ("emotion",)
    search_fields = ("emotion",)
    list_editable = ("head_pitch", "head_yaw", "head_roll", "transition")


@admin.register(CharacterMemory)
class CharacterMemoryAdmin(admin.ModelAdmin):
    """Read and delete only: the user owns the wording (an edit here would also leave the stored
    vector stale; users correct facts on their page, which re-embeds them)."""

    list_display = ("text", "user", "character", "source_conversation", "updated_at")
    search_fields = ("text", "user__email", "character__name")
    list_select_related = ("user", "character")
    raw_id_fields = ("user", "character", "source_conversation")
    readonly_fields = ("user", "character", "text", "embedding_model", "source_conversation", "created_at", "updated_at")
    exclude = ("embedding",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MemorySetting)
class MemorySettingAdmin(admin.ModelAdmin):
    list_display = ("user", "character", "enabled", "updated_at")
    list_filter = ("enabled",)
    search_fields = ("user__email", "character__name")
    raw_id_fields = ("user", "character")
    readonly_fields = ("user", "character", "enabled", "updated_at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False
