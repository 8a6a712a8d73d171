from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import ApiToken, Plan, User


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "name", "code", "is_default", "actor_slots", "avatar_slots", "max_avatar_bytes",
        "concurrent_conversations", "generation_jobs_per_day", "user_count",
    )
    list_editable = ("actor_slots", "avatar_slots", "concurrent_conversations", "generation_jobs_per_day")
    search_fields = ("name", "code")
    ordering = ("sort_order",)

    @admin.display(description=_("users"))
    def user_count(self, obj: Plan) -> int:
        return obj.users.count()


class ApiTokenInline(admin.TabularInline):
    model = ApiToken
    extra = 0
    fields = ("name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("name", "prefix", "created_at", "last_used_at")
    can_delete = True


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "display_name", "plan", "is_staff", "is_active", "date_joined", "last_login")
    list_filter = ("plan", "is_staff", "is_superuser", "is_active")
    search_fields = ("email", "display_name")
    list_select_related = ("plan",)
    inlines = [ApiTokenInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Profile"), {"fields": ("display_name", "plan")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "plan", "password1", "password2")}),)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("name", "prefix", "user__email")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
    list_select_related = ("user",)
