"""Admin of AI characters: presets (no owner) are edited here; users' characters can be moderated."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ..models import Character


@admin.register(Character)
class CharacterAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "category", "language", "visibility", "is_draft", "preset_key", "updated_at")
    list_filter = ("visibility", "category", "language", "is_draft", ("owner", admin.EmptyFieldListFilter))
    search_fields = ("name", "nickname", "source_work", "preset_key", "owner__email")
    readonly_fields = ("id", "created_at", "updated_at", "portrait_key", "generation_count")
    raw_id_fields = ("owner", "avatar")
    list_select_related = ("owner",)
    fieldsets = (
        (None, {"fields": ("id", "owner", "preset_key", "is_draft", "generation_count", "visibility", "created_at", "updated_at")}),
        (_("Identity"), {"fields": ("name", "nickname", "category", "source_work", "language", "gender", "species", "age",
                                    "height", "job")}),
        (_("Character sheet"), {"fields": ("description", "personality", "appearance", "likes", "dislikes", "speech_style",
                                           "thoughts", "features", "habits", "guidelines", "worldview")}),
        (_("Conversation"), {"fields": ("first_message", "alternate_greetings", "example_dialogue", "scenario_counterpart",
                                        "scenario_situation", "scenario_background")}),
        (_("Presentation"), {"fields": ("avatar", "builtin_avatar", "voice_id", "portrait_key")}),
        (_("Character Card"), {"classes": ("collapse",),
                               "fields": ("tags", "creator", "character_version", "creator_notes", "system_prompt",
                                          "post_history_instructions", "extensions", "card_extras")}),
    )
