from django.contrib import admin

from .models import Room, RoomInvite


class RoomInviteInline(admin.TabularInline):
    model = RoomInvite
    extra = 0
    fields = ("id", "created_by", "created_at", "expires_at", "used_at", "for_practice")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # invites carry a signed token: create them from the lobby or the API


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "owner", "created_at", "expires_at", "closed_at")
    list_filter = ("created_at", "expires_at", "closed_at")
    search_fields = ("code", "title", "owner__email")
    readonly_fields = ("code",)
    raw_id_fields = ("owner",)
    date_hierarchy = "created_at"
    inlines = [RoomInviteInline]


@admin.register(RoomInvite)
class RoomInviteAdmin(admin.ModelAdmin):
    list_display = ("id", "room", "created_by", "created_at", "expires_at", "used_at", "for_practice")
    list_filter = ("for_practice", "created_at", "used_at")
    search_fields = ("room__code", "created_by__email")
    raw_id_fields = ("room", "created_by")
