"""Admin of AI characters: presets (no owner) are edited here; users' characters are moderated
here (feature them in the default list; hide them after reports, from either list)."""
from typing import Any

from django.contrib import admin, messages
from django.db.models import Case, Count, Q, QuerySet, When
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..models import Character, CharacterReport, ReportStatus
from . import moderation


class HiddenFilter(admin.SimpleListFilter):
    title = _("hidden by moderators")
    parameter_name = "hidden"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", _("Hidden")), ("no", _("Not hidden"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(hidden_at__isnull=self.value() == "no")
        return queryset


def _done(request: HttpRequest, text: str, count: int) -> None:
    messages.success(request, text % {"n": count})


@admin.action(description=_("Hide the selected characters from everybody but their owners"), permissions=["change"])
def hide_characters(modeladmin: Any, request: HttpRequest, queryset: QuerySet) -> None:
    ids = queryset.values_list("character_id" if queryset.model is CharacterReport else "pk", flat=True)
    count = moderation.set_hidden(admin=request.user, character_ids=ids, hidden=True)
    _done(request, ngettext("%(n)d character hidden.", "%(n)d characters hidden.", count), count)


@admin.action(description=_("Show the selected characters again"), permissions=["change"])
def unhide_characters(modeladmin: Any, request: HttpRequest, queryset: QuerySet) -> None:
    ids = queryset.values_list("character_id" if queryset.model is CharacterReport else "pk", flat=True)
    count = moderation.set_hidden(admin=request.user, character_ids=ids, hidden=False)
    _done(request, ngettext("%(n)d character shown again.", "%(n)d characters shown again.", count), count)


@admin.action(description=_("Feature in everybody's default list"), permissions=["change"])
def feature_characters(modeladmin: Any, request: HttpRequest, queryset: QuerySet) -> None:
    count = moderation.set_featured(admin=request.user, character_ids=queryset.values_list("pk", flat=True), featured=True)
    _done(request, ngettext("%(n)d character featured.", "%(n)d characters featured.", count), count)


@admin.action(description=_("Stop featuring"), permissions=["change"])
def unfeature_characters(modeladmin: Any, request: HttpRequest, queryset: QuerySet) -> None:
    count = moderation.set_featured(admin=request.user, character_ids=queryset.values_list("pk", flat=True), featured=False)
    _done(request, ngettext("%(n)d character no longer featured.", "%(n)d characters no longer featured.", count), count)


@admin.action(description=_("Dismiss the selected reports (leave the characters as they are)"), permissions=["change"])
def dismiss_reports(modeladmin: Any, request: HttpRequest, queryset: QuerySet) -> None:
    count = moderation.dismiss_reports(admin=request.user, report_ids=queryset.values_list("pk", flat=True))
    _done(request, ngettext("%(n)d report dismissed.", "%(n)d reports dismissed.", count), count)


@admin.register(Character)
class CharacterAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "category", "language", "visibility", "featured", "hidden_at", "open_reports",
                    "is_draft", "preset_key", "updated_at")
    list_filter = ("visibility", "featured", HiddenFilter, "category", "language", "is_draft",
                   ("owner", admin.EmptyFieldListFilter))
    search_fields = ("name", "nickname", "source_work", "preset_key", "owner__email")
    readonly_fields = ("id", "created_at", "updated_at", "portrait_key", "generation_count", "hidden_at")
    raw_id_fields = ("owner", "avatar")
    list_select_related = ("owner",)
    actions = [feature_characters, unfeature_characters, hide_characters, unhide_characters]
    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(
            open_report_count=Count("reports", filter=Q(reports__status=ReportStatus.OPEN)))

    @admin.display(description=_("open reports"), ordering="-open_report_count")
    def open_reports(self, character: Character) -> int:
        return character.open_report_count

    fieldsets = (
        (None, {"fields": ("id", "owner", "preset_key", "is_draft", "generation_count", "visibility", "featured",
                           "hidden_at", "created_at", "updated_at")}),
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


@admin.register(CharacterReport)
class CharacterReportAdmin(admin.ModelAdmin):
    """The moderation queue: open reports first; hide the reported character from here."""

    list_display = ("character", "character_owner", "character_hidden", "reporter", "reason", "status", "created_at")
    list_filter = ("status", "reason")
    search_fields = ("character__name", "reporter__email", "character__owner__email", "details")
    list_select_related = ("character", "character__owner", "reporter")
    readonly_fields = ("id", "character", "reporter", "reason", "details", "status", "created_at", "resolved_at",
                       "resolved_by")
    actions = [hide_characters, unhide_characters, dismiss_reports]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # reports come from users

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        open_first = Case(When(status=ReportStatus.OPEN, then=0), default=1)
        return super().get_queryset(request).order_by(open_first, "-created_at")

    @admin.display(description=_("owner"))
    def character_owner(self, report: CharacterReport) -> Any:
        return report.character.owner

    @admin.display(description=_("hidden"), boolean=True)
    def character_hidden(self, report: CharacterReport) -> bool:
        return report.character.is_hidden
