"""Admin for generation jobs: find jobs, see each stage's timing, data and preview, cancel, retry,
sweep stale jobs, and delete jobs with their stored files."""
from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from avatarforge.errors import AppError

from . import services
from .models import GenerationJob, JobStage, StyleJob
from .style import services as style_services


class JobStageInline(admin.TabularInline):
    model = JobStage
    extra = 0
    can_delete = False
    fields = ("position", "name", "status", "backend", "runs", "duration_ms", "preview_link", "note", "data")
    readonly_fields = fields
    ordering = ("position",)

    @admin.display(description=_("preview"))
    def preview_link(self, obj: JobStage) -> str:
        if not obj.preview:
            return "—"
        url = reverse("api:generate-stage-preview", kwargs={"job_id": obj.job_id, "stage": obj.name})
        return format_html('<a href="{}">{}</a>', url, _("open"))

    def has_add_permission(self, request: HttpRequest, obj: GenerationJob | None = None) -> bool:
        return False


@admin.register(GenerationJob)
class GenerationJobAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "status", "progress", "stage", "error_code", "retries", "created_at", "duration")
    list_filter = ("status", "error_code", "created_at")
    search_fields = ("id", "owner__email", "error_code", "error_message", "input_name")
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
    readonly_fields = (
        "id", "owner", "status", "progress", "stage", "options", "input_file", "input_name", "input_bytes", "source_job",
        "cancel_requested", "error_code", "error_message", "error_details", "retries", "recoveries", "heartbeat_at",
        "created_at", "started_at", "finished_at", "updated_at", "avatar",
    )
    inlines = [JobStageInline]
    actions = ["cancel_jobs", "retry_jobs", "sweep_stale"]

    @admin.display(description=_("time taken"))
    def duration(self, obj: GenerationJob) -> str:
        return "—" if obj.duration_ms is None else f"{obj.duration_ms / 1000:.1f} s"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs start from a photo upload, not from a form

    @admin.action(description=_("Cancel selected jobs"), permissions=["change"])
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[GenerationJob]) -> None:
        done = 0
        for job in queryset.select_related("owner"):
            try:
                services.cancel_job(user=job.owner, job_id=job.pk)
                done += 1
            except AppError as exc:
                self.message_user(request, f"{job.pk}: {exc.message}", messages.WARNING)
        self.message_user(request, _("%(n)d job(s) cancelled.") % {"n": done})

    @admin.action(description=_("Retry selected jobs"), permissions=["change"])
    def retry_jobs(self, request: HttpRequest, queryset: QuerySet[GenerationJob]) -> None:
        done = 0
        for job in queryset.select_related("owner"):
            try:
                services.retry_job(user=job.owner, job_id=job.pk)
                done += 1
            except AppError as exc:
                self.message_user(request, f"{job.pk}: {exc.message}", messages.WARNING)
        self.message_user(request, _("%(n)d job(s) queued again.") % {"n": done})

    @admin.action(description=_("Fail jobs whose worker stopped"), permissions=["change"])
    def sweep_stale(self, request: HttpRequest, queryset: QuerySet[GenerationJob]) -> None:
        swept = services.sweep_stale_jobs(job_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, _("%(n)d stale job(s) marked failed.") % {"n": swept})

    def delete_model(self, request: HttpRequest, obj: GenerationJob) -> None:
        services.purge_job(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[GenerationJob]) -> None:
        for job in queryset:
            services.purge_job(job)


@admin.register(JobStage)
class JobStageAdmin(admin.ModelAdmin):
    list_display = ("job", "name", "status", "duration_ms", "runs", "backend", "finished_at")
    list_filter = ("name", "status", "backend")
    search_fields = ("job__id", "job__owner__email", "note")
    list_select_related = ("job",)
    readonly_fields = ("job", "name", "position", "status", "backend", "runs", "started_at", "finished_at", "duration_ms", "data", "files", "preview", "note")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(StyleJob)
class StyleJobAdmin(admin.ModelAdmin):
    """Style transfer jobs (seed 004 section 5.7): read-only; deleting one deletes its files."""

    list_display = ("id", "owner", "preset", "strength", "status", "progress", "error_code", "created_at")
    list_filter = ("status", "preset", "error_code", "created_at")
    search_fields = ("id", "owner__email", "error_code", "error_message")
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
    readonly_fields = (
        "id", "owner", "status", "progress", "step", "preset", "strength", "input_file", "input_bytes", "result_file", "reading",
        "method", "cancel_requested", "error_code", "error_message", "error_details", "retries", "heartbeat_at", "created_at",
        "started_at", "finished_at", "updated_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs start from a photo upload, not from a form

    def delete_model(self, request: HttpRequest, obj: StyleJob) -> None:
        style_services.purge_style_job(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[StyleJob]) -> None:
        for job in queryset:
            style_services.purge_style_job(job)
